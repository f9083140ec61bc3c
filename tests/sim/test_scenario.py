"""Scenario files: built-ins load, every bad value is refused with the field and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from datalever.economy import ConfigError, load_policy
from datalever.sim.scenario import Scenario, builtin_scenarios, load_scenario, with_overrides


def test_builtin_scenarios_load() -> None:
    assert {"default", "stackoverflow-2022", "braess-worse", "braess-better"} <= set(builtin_scenarios())
    so = load_scenario("stackoverflow-2022")
    assert so.name == "stackoverflow-2022"
    assert so.run.start.isoformat() == "2022-06-06"
    assert so.run.ai_launch_week == 25


def test_empty_file_is_the_documented_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text("")
    assert load_scenario(path) == Scenario()


def test_every_field_has_a_description_with_its_source() -> None:
    for section_name, section in Scenario.model_fields.items():
        model = section.annotation
        if not isinstance(model, type) or not hasattr(model, "model_fields"):
            continue
        for name, field in model.model_fields.items():
            assert field.description, f"{section_name}.{name} has no documented meaning/source"


@pytest.mark.parametrize(
    ("toml", "field", "reason"),
    [
        ("[people]\nsuperuser_share = 1.5\n", "people.superuser_share", "less than or equal to 1"),
        ("[people]\nsuperuser_share = 0.6\noccasional_share = 0.6\n", "people", "must not exceed 1"),
        ("[run]\nagents = 10\n", "run.agents", "greater than or equal to 100"),
        ("[run]\nweeks = 'ten'\n", "run.weeks", "valid integer"),
        ("[ai]\nretrain_every_weeks = 0\n", "ai.retrain_every_weeks", "greater than or equal to 1"),
        ("[ai]\nquality = 0.9\n", "ai.quality", "unknown key"),
        ("[platform]\ndepreciation_per_week = -0.1\n", "platform.depreciation_per_week", "greater than or equal to 0"),
        ("[choice]\nadoption_weeks = 0\n", "choice.adoption_weeks", "greater than 0"),
        ("[policy_response]\nqueries_per_session = 0\n", "policy_response.queries_per_session", "greater than"),
        ("[platform]\nanswer_extra_vote_chance = 1.0\n", "platform.answer_extra_vote_chance", "less than 1"),
        ("[platform]\nanswer_reputation_half = 0\n", "platform.answer_reputation_half", "greater than 0"),
        # Stipend eligibility is the policy file's rule now, no longer a scenario parameter.
        ("[policy_response]\nstipend_min_answers = 4\n", "policy_response.stipend_min_answers", "unknown key"),
        ("[weather]\nrain = 1\n", "weather", "unknown key"),
    ],
)
def test_invalid_values_name_the_field(tmp_path: Path, toml: str, field: str, reason: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert f"{field}: " in message
    assert reason in message


def test_not_toml_and_unknown_name(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[run\nagents=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_scenario(path)
    with pytest.raises(ConfigError, match=r"no such built-in scenario or file \(built-in: .*default"):
        load_scenario("no-such-scenario")


def test_command_line_overrides_are_validated() -> None:
    base = load_scenario("default")
    assert with_overrides(base, agents=500, weeks=3, seed=9).run.agents == 500
    with pytest.raises(ConfigError, match=r"command line: run\.agents: "):
        with_overrides(base, agents=0)
    with pytest.raises(ConfigError, match=r"run\.weeks: "):
        with_overrides(base, weeks=-1)


def test_invalid_policy_for_the_simulator_names_the_field(tmp_path: Path, default_policy_path: Path) -> None:
    text = default_policy_path.read_text().replace("cite_every = 5", "cite_every = 0")
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"nudge\.cite_every: Input should be greater than 0"):
        load_policy(path)
