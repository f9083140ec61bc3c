"""Plural alignment rules against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from datalever.economy import alignment as rules
from datalever.economy.alignment import AlignmentPolicy
from datalever.economy.config import ConfigError, validate_mapping
from datalever.economy.policy import Policy, load_policy

POLICY = AlignmentPolicy(aware_within_days=30, whatif_within_days=90, max_change_cost=50)


def test_default_policy_has_the_alignment_section():
    policy = load_policy()
    assert policy.alignment.aware_within_days == 90
    assert policy.alignment.max_change_cost == 100


def test_bad_alignment_section_is_refused():
    data = load_policy().model_dump(mode="json")
    data["alignment"] = {"aware_within_days": 0}
    with pytest.raises(ConfigError, match=r"alignment\.aware_within_days"):
        validate_mapping(data, Policy, "bad.toml")


def test_thresholds_vectorised():
    days = np.array([0, 30, 31, np.inf, np.nan])
    assert rules.is_aware(days, POLICY).tolist() == [True, True, False, False, False]
    assert rules.can_reason(np.array([90, 91, np.inf]), POLICY).tolist() == [True, False, False]
    assert rules.has_agency(np.array([0, 49, 50]), POLICY).tolist() == [True, True, False]  # strictly below
    assert rules.is_aware(5, POLICY) is True


def test_any_age_of_what_if_when_no_limit():
    policy = AlignmentPolicy(whatif_within_days=None)
    assert rules.can_reason(10_000, policy) is True
    assert rules.can_reason(np.inf, policy) is False


def test_score_is_the_share_meeting_all_three():
    aware = [True, True, True, False]
    reason = [True, True, False, True]
    agency = [True, False, True, True]
    ok = rules.aligned(aware, reason, agency)
    assert ok.tolist() == [True, False, False, False]
    assert rules.alignment_score(ok) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="without members"):
        rules.alignment_score([])


def test_gini_by_hand():
    assert rules.gini([1, 1, 1, 1]) == pytest.approx(0.0)
    assert rules.gini([0, 0, 0, 1]) == pytest.approx(0.75)  # (n-1)/n
    # [1, 2, 3, 4]: mean absolute difference over all ordered pairs = 20/16 = 1.25; / (2 x 2.5) = 0.25
    assert rules.gini([4, 1, 3, 2]) == pytest.approx(0.25)
    assert rules.gini([0, 0]) == 0.0
    with pytest.raises(ValueError):
        rules.gini([])
    with pytest.raises(ValueError):
        rules.gini([-1, 2])


def test_hhi_by_hand():
    assert rules.hhi([1, 1, 1, 1]) == pytest.approx(0.25)
    assert rules.hhi([5, 0, 0]) == pytest.approx(1.0)
    # shares 0.5, 0.3, 0.2: 0.25 + 0.09 + 0.04 = 0.38
    assert rules.hhi([50, 30, 20]) == pytest.approx(0.38)
    with pytest.raises(ValueError, match="every value is zero"):
        rules.hhi([0, 0])
