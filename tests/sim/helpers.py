"""Small scenarios and policies for fast simulator tests."""

from __future__ import annotations

from typing import Any

from datalever.documents import validate_mapping
from datalever.economy import Policy, load_policy
from datalever.sim.engine import RunResult, run_simulations
from datalever.sim.scenario import Scenario, load_scenario


def scenario(agents: int = 3_000, weeks: int = 40, seed: int = 7, **sections: dict[str, Any]) -> Scenario:
    """The default scenario, small, with some sections' keys replaced."""
    data = load_scenario("default").model_dump()
    data["run"].update(agents=agents, weeks=weeks, seed=seed)
    for section, values in sections.items():
        data[section].update(values)
    return validate_mapping(data, Scenario, "test")


def policy(**sections: dict[str, Any]) -> Policy:
    data = load_policy().model_dump(mode="json")
    for section, values in sections.items():
        data[section].update(values)
    return validate_mapping(data, Policy, "test")


def run_pair(sc: Scenario, pol: Policy | None = None, threads: int | None = None) -> tuple[RunResult, RunResult]:
    baseline, with_policy = run_simulations(sc, [None, pol or load_policy()], ["baseline", "policy"], threads=threads)
    return baseline, with_policy
