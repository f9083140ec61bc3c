"""Parameter sweeps with Sobol sensitivity analysis (SALib), run on a Dask distributed cluster.

Which assumptions does the verdict hinge on? A sweep varies chosen scenario or policy parameters over ranges,
runs the baseline and the policy at each Sobol point, and reports how much of the variance of each party's
outcome (the policy's effect as an absolute difference from the baseline: operator cents, platform answers,
people's consumer surplus in cents per person-week; never a percent of a number near zero) each parameter
explains, first-order (S1) and total-order (ST), with bootstrap confidence intervals. `ci_check` says whether
the sample was large enough: every material index (>= 0.05) must be larger than its 95% half-interval.
Points run as Dask tasks: on a LocalCluster by default, or on a real cluster given its scheduler address.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from datalever.documents import validate_mapping
from datalever.economy import ConfigError, Policy
from datalever.sim.scenario import Scenario

OUTPUTS = ("operator_cents", "platform_answers", "people_surplus_cents", "positive_sum")
DELTAS = OUTPUTS[:3]
MATERIAL = 0.05  # indices below this are "about zero": their intervals may be wider than they are
_SPEC = re.compile(
    r"^(?:(?P<target>scenario|policy):)?(?P<key>[a-z_]+\.[a-z_]+)=(?P<low>[-0-9.eE+]+):(?P<high>[-0-9.eE+]+)$"
)


@dataclass(frozen=True)
class SweepParameter:
    """One swept parameter: `scenario:section.key` or `policy:section.key`, between low and high."""

    target: str
    key: str
    low: float
    high: float

    @property
    def name(self) -> str:
        return f"{self.target}:{self.key}"


def parse_parameter(spec: str, scenario: Scenario, policy: Policy) -> SweepParameter:
    """Parse `[scenario:|policy:]section.key=low:high`, checking the key exists and both ends are valid."""
    match = _SPEC.match(spec.strip())
    if match is None:
        raise ConfigError(spec, ["expected [scenario:|policy:]section.key=low:high, e.g. ai.quality_max=0.8:0.99"])
    parameter = SweepParameter(match["target"] or "scenario", match["key"], float(match["low"]), float(match["high"]))
    if parameter.low >= parameter.high:
        raise ConfigError(spec, [f"{parameter.key}: low must be below high"])
    for value in (parameter.low, parameter.high):
        apply(scenario, policy, {parameter.name: value}, source=spec)
    return parameter


def apply(
    scenario: Scenario, policy: Policy, values: dict[str, float], *, source: str = "sweep"
) -> tuple[Scenario, Policy]:
    """The scenario and policy with swept values set and re-validated (integers are rounded)."""
    documents = {"scenario": scenario.model_dump(mode="json"), "policy": policy.model_dump(mode="json")}
    for name, value in values.items():
        target, key = name.split(":", 1)
        section, field = key.split(".", 1)
        table = documents[target].get(section)
        if not isinstance(table, dict) or field not in table:
            raise ConfigError(source, [f"{key}: no such {target} parameter"])
        current = table[field]
        table[field] = round(value) if isinstance(current, int) and not isinstance(current, bool) else value
    return (
        validate_mapping(documents["scenario"], Scenario, source),
        validate_mapping(documents["policy"], Policy, source),
    )


def run_point(values: dict[str, float], scenario: Scenario, policy: Policy) -> dict[str, float]:
    """One sweep point: baseline and policy side by side; each party's absolute delta and the verdict."""
    from datalever.sim.outcomes import is_positive_sum, party_deltas, run_pair

    chosen, rules = apply(scenario, policy, values)
    deltas = party_deltas(run_pair(chosen, rules))
    return {**values, **{key: deltas[key] for key in DELTAS}, "positive_sum": float(is_positive_sum(deltas))}


def sobol_problem(parameters: Sequence[SweepParameter]) -> dict[str, Any]:
    return {
        "num_vars": len(parameters),
        "names": [p.name for p in parameters],
        "bounds": [[p.low, p.high] for p in parameters],
    }


def sample_points(parameters: Sequence[SweepParameter], base_samples: int, seed: int) -> list[dict[str, float]]:
    """Saltelli/Sobol points: base_samples x (parameters + 2) runs (first and total order indices)."""
    from SALib.sample import sobol as sobol_sample

    matrix = sobol_sample.sample(sobol_problem(parameters), base_samples, calc_second_order=False, seed=seed)
    return [{p.name: float(v) for p, v in zip(parameters, row, strict=True)} for row in matrix]


def analyze(parameters: Sequence[SweepParameter], rows: Sequence[dict[str, float]], seed: int) -> dict[str, Any]:
    """First-order and total Sobol indices of every output, with confidence intervals."""
    from SALib.analyze import sobol as sobol_analyze

    problem = sobol_problem(parameters)
    result: dict[str, Any] = {}
    for output in OUTPUTS:
        y = np.array([row[output] for row in rows], dtype=float)
        if np.ptp(y) == 0:  # no variation: nothing to attribute
            result[output] = {p.name: {"S1": 0.0, "S1_conf": 0.0, "ST": 0.0, "ST_conf": 0.0} for p in parameters}
            continue
        indices = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)
        result[output] = {
            p.name: {k: float(np.nan_to_num(indices[k][i])) for k in ("S1", "S1_conf", "ST", "ST_conf")}
            for i, p in enumerate(parameters)
        }
    return result


def ci_check(parameters: Sequence[SweepParameter], indices: dict[str, Any]) -> list[dict[str, Any]]:
    """Every material index (S1 or ST >= MATERIAL) of every party's delta against its 95% half-interval."""
    rows = []
    for output in DELTAS:
        for p in parameters:
            for kind in ("S1", "ST"):
                value, conf = indices[output][p.name][kind], indices[output][p.name][f"{kind}_conf"]
                if abs(value) >= MATERIAL:
                    rows.append(
                        {
                            "output": output,
                            "parameter": p.name,
                            "index": kind,
                            "value": value,
                            "conf": conf,
                            "narrower": conf < abs(value),
                        }
                    )
    return rows


def run_sweep(
    scenario: Scenario,
    policy: Policy,
    points: Sequence[dict[str, float]],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    on_done: Callable[[int], None] | None = None,
) -> list[dict[str, float]]:
    """Evaluate every point as a Dask task; results come back in the order of `points`."""
    from datalever.sim.cluster import run_tasks

    return run_tasks(run_point, points, scenario, policy, scheduler=scheduler, workers=workers, on_done=on_done)


DEFAULT_PARAMETERS = (
    "ai.compute_cost_cents_per_query=0.05:1",
    "ai.revenue_cents_per_query=0:1.5",
    "ai.feedback_value_cents=0.5:5",
    "policy_response.stipend_contribution_response=0:0.5",
    "policy:allowance.credits_per_month=20:300",
)


def write_sweep(
    parameters: Sequence[SweepParameter], rows: Sequence[dict[str, float]], indices: dict[str, Any], out: Path
) -> list[Path]:
    """sweep.parquet (one row per point), sensitivity.json and sensitivity.png (total-order indices)."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from datalever.reports import grouped_bars

    out.mkdir(parents=True, exist_ok=True)
    columns = [p.name for p in parameters] + list(OUTPUTS)
    table = pa.table({name: [row[name] for row in rows] for name in columns})
    pq.write_table(table, out / "sweep.parquet")
    summary = {
        "parameters": [p.__dict__ for p in parameters],
        "runs": len(rows),
        "positive_sum_share": float(np.mean([row["positive_sum"] for row in rows])) if rows else 0.0,
        "sobol": indices,
        "ci_check": ci_check(parameters, indices),
    }
    (out / "sensitivity.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    labels = {"operator_cents": "operator", "platform_answers": "platform", "people_surplus_cents": "people"}
    png = grouped_bars(
        out / "sensitivity.png",
        "What each party's gain from the policy depends on: total-order Sobol index, 95% interval",
        [p.name for p in parameters],
        {labels[d]: [indices[d][p.name]["ST"] for p in parameters] for d in DELTAS},
        errors={labels[d]: [indices[d][p.name]["ST_conf"] for p in parameters] for d in DELTAS},
        ylabel="share of variance (ST)",
    )
    return [out / "sweep.parquet", out / "sensitivity.json", png]
