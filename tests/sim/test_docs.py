"""Every scenario parameter is documented with its source or assumed range in docs/simulator.md."""

from __future__ import annotations

from pathlib import Path

from datalever.sim.scenario import Scenario

DOC = Path(__file__).resolve().parents[2] / "docs" / "simulator.md"


def test_every_scenario_key_is_in_the_parameter_tables() -> None:
    text = DOC.read_text(encoding="utf-8")
    tables = text[text.index("## 9. Parameters") : text.index("## 10.")]
    missing = []
    for section, info in Scenario.model_fields.items():
        model = info.annotation
        if not isinstance(model, type) or not hasattr(model, "model_fields"):
            continue
        assert f"**[{section}]**" in tables, section
        missing += [f"{section}.{name}" for name in model.model_fields if f"| `{name}` |" not in tables]
    assert not missing, f"undocumented scenario keys: {missing}"


def test_every_assumed_parameter_states_a_range() -> None:
    for section, info in Scenario.model_fields.items():
        model = info.annotation
        if not isinstance(model, type) or not hasattr(model, "model_fields"):
            continue
        for name, field in model.model_fields.items():
            text = field.description or ""
            if "assum" in text:
                assert "range" in text, f"{section}.{name} is assumed but gives no range"
