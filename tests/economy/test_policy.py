from __future__ import annotations

from pathlib import Path

import pytest

from datalever.economy import ConfigError, Expiry, load_policy
from tests.support.data import DEFAULT_POLICY


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return path


def replace_in_default(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_POLICY.read_text()
    assert old in text, f"test setup: {old!r} not in default policy"
    return write(tmp_path, text.replace(old, new, 1))


def test_default_policy_has_the_proposal_numbers() -> None:
    policy = load_policy(DEFAULT_POLICY)
    assert policy.allowance.credits_per_month == 100
    assert policy.allowance.expires is Expiry.END_OF_NEXT_MONTH
    assert policy.query.base_price == 1
    assert policy.query.surge_after == 5
    assert policy.query.surge_multiplier == 2
    assert policy.query.session_idle_minutes == 30
    assert policy.feedback.base_reward == 1
    assert policy.feedback.expires is Expiry.NEVER
    assert policy.credit.value_cents == 1
    assert policy.stipend.credits_per_month == 50


def test_packaged_default_is_the_repository_default() -> None:
    assert load_policy() == load_policy(DEFAULT_POLICY)


def test_negative_price_is_refused_naming_the_key(tmp_path: Path) -> None:
    path = replace_in_default(tmp_path, "base_price = 1", "base_price = -1")
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    assert "query.base_price" in str(caught.value)
    assert "greater than 0" in str(caught.value)


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    path = replace_in_default(tmp_path, "[allowance]\n", "[allowance]\ncredits_per_week = 3\n")
    with pytest.raises(ConfigError, match=r"allowance\.credits_per_week: unknown key"):
        load_policy(path)


def test_missing_field_is_refused(tmp_path: Path) -> None:
    path = replace_in_default(tmp_path, "credits_per_month = 100\n", "")
    with pytest.raises(ConfigError, match=r"allowance\.credits_per_month: missing required key"):
        load_policy(path)


def test_unknown_expiry_rule_is_refused(tmp_path: Path) -> None:
    path = replace_in_default(tmp_path, 'expires = "end_of_next_month"', 'expires = "someday"')
    with pytest.raises(ConfigError, match=r"allowance\.expires"):
        load_policy(path)


def test_tiers_must_ascend_from_zero(tmp_path: Path) -> None:
    path = replace_in_default(tmp_path, "min_reputation = 0.0", "min_reputation = 0.2")
    with pytest.raises(ConfigError, match=r"feedback\.tiers: .*start at min_reputation = 0\.0"):
        load_policy(path)


def test_malformed_toml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_policy(write(tmp_path, "[allowance\ncredits_per_month = 1"))


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read file"):
        load_policy(tmp_path / "nope.toml")
