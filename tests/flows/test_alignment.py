"""Monthly alignment scores from inputs, checked by hand against the example inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from datalever.documents import ConfigError
from datalever.economy.alignment import AlignmentPolicy
from datalever.flows.alignment import AlignmentInputs, month_end, months_up_to, read_inputs, report

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "flows" / "alignment-inputs.toml"
POLICY = AlignmentPolicy(aware_within_days=90, whatif_within_days=365, max_change_cost=100)


def test_example_inputs_by_hand():
    inputs = read_inputs(EXAMPLE)
    result = report(inputs, "llama-65b", POLICY)
    assert result.months == ("2026-08", "2026-09", "2026-10", "2026-11")
    november = {s.coalition: s for s in result.scores if s.month == "2026-11"}
    bikes = november["bicycles-se"]
    # views within 90 days of 30 Nov: all four; what-if of 15 Sep: all four; costs 20, 20, 20, 200 -> 3 below 100
    assert (bikes.members, bikes.aware, bikes.can_reason, bikes.agency, bikes.aligned) == (4, 4, 4, 3, 3)
    assert bikes.score == pytest.approx(0.75)
    wiki = november["wikiproject-cycling"]
    assert (wiki.aware, wiki.can_reason, wiki.agency, wiki.aligned) == (2, 2, 1, 1)
    conc = {c.month: c for c in result.concentration}["2026-11"]
    assert conc.gini == pytest.approx(0.1)  # |0.75 - 0.5| x 2 / (2 x 2^2 x 0.625)
    assert conc.hhi == pytest.approx(0.625)  # (3/4)^2 + (1/4)^2
    august = {c.month: c for c in result.concentration}["2026-08"]
    assert august.hhi is None  # nobody aligned: concentration undefined
    september = next(s for s in result.scores if s.month == "2026-09" and s.coalition == "bicycles-se")
    assert september.members == 4  # chen joined on 1 September


def test_what_if_must_be_for_the_same_system():
    result = report(read_inputs(EXAMPLE), "gpt-3-175b", POLICY)
    assert all(s.can_reason == 0 and s.aligned == 0 for s in result.scores)


def test_stricter_thresholds_lower_the_score():
    strict = AlignmentPolicy(aware_within_days=7, whatif_within_days=30, max_change_cost=10)
    result = report(read_inputs(EXAMPLE), "llama-65b", strict, ["2026-11"])
    assert all(s.aligned == 0 for s in result.scores)


def test_month_helpers():
    assert month_end("2028-02").day == 29
    inputs = read_inputs(EXAMPLE)
    assert months_up_to(inputs, "2026-10") == ["2026-08", "2026-09", "2026-10"]
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_end("2026-13")


BAD = {
    "unknown-coalition": (
        {"coalitions": [{"id": "a", "change_cost": 1}], "members": [{"id": "m", "coalition": "b"}]},
        "unknown coalition 'b'",
    ),
    "no-cost": ({"coalitions": [{"id": "a"}], "members": [{"id": "m", "coalition": "a"}]}, "no change_cost"),
    "bad-date": (
        {
            "coalitions": [{"id": "a", "change_cost": 1}],
            "members": [{"id": "m", "coalition": "a", "report_views": ["yesterday"]}],
        },
        "members.0.report_views.0",
    ),
    "duplicate-member": (
        {
            "coalitions": [{"id": "a", "change_cost": 1}],
            "members": [{"id": "m", "coalition": "a"}, {"id": "m", "coalition": "a"}],
        },
        "listed twice",
    ),
    "no-coalitions": ({"coalitions": []}, "coalitions"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_inputs_are_refused(case):
    from datalever.documents import validate_mapping

    data, message = BAD[case]
    with pytest.raises(ConfigError) as error:
        validate_mapping(data, AlignmentInputs, "inputs.toml")
    assert message in str(error.value)


def test_malformed_inputs_file(tmp_path):
    path = tmp_path / "inputs.json"
    path.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        read_inputs(path)
