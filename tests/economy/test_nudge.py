"""The AI's nudge rule: every n-th answer cites the platform; the batch form agrees with the per-answer form."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from datalever.economy import citations_due, cites_platform, load_policy
from datalever.economy.nudge import NudgePolicy


def test_default_policy_has_a_nudge() -> None:
    nudge = load_policy().nudge
    assert nudge.enabled and nudge.cite_every == 5
    assert [cites_platform(n, nudge) for n in range(1, 11)] == [False] * 4 + [True] + [False] * 4 + [True]


@given(before=st.integers(0, 500), extra=st.integers(0, 500), every=st.integers(1, 20))
def test_batch_equals_sum_of_single_answers(before: int, extra: int, every: int) -> None:
    rules = NudgePolicy(cite_every=every)
    expected = sum(cites_platform(n, rules) for n in range(before + 1, before + extra + 1))
    assert citations_due(before, before + extra, rules) == expected


def test_arrays_keep_integer_dtype_and_disabled_cites_nothing() -> None:
    rules = NudgePolicy(cite_every=3)
    before = np.array([0, 2, 5], dtype=np.int32)
    now = np.array([3, 4, 5], dtype=np.int32)
    assert citations_due(before, now, rules).tolist() == [1, 1, 0]
    assert citations_due(before, now, NudgePolicy(enabled=False)).tolist() == [0, 0, 0]
    assert cites_platform(3, NudgePolicy(enabled=False, cite_every=3)) is False


def test_bad_inputs_are_refused() -> None:
    rules = NudgePolicy()
    with pytest.raises(ValueError, match="counts from 1"):
        cites_platform(0, rules)
    with pytest.raises(ValueError, match="answers_before <= answers_now"):
        citations_due(5, 4, rules)
    with pytest.raises(ValueError, match="integers"):
        citations_due(1.5, 3.0, rules)
