"""Parameter sweeps with Sobol sensitivity analysis (SALib), run on a Dask distributed cluster.

Which assumptions does the verdict hinge on? A sweep varies chosen scenario or policy parameters over ranges,
runs the baseline and the policy at each Sobol point, and reports how much of the variance of each party's
outcome (policy against baseline, in %) each parameter explains (first-order S1 and total-order ST indices).
Points run as Dask tasks: on a LocalCluster by default, or on a real cluster given its scheduler address.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from datalever.documents import validate_mapping
from datalever.economy import ConfigError, Policy
from datalever.sim.engine import run_simulations
from datalever.sim.outcomes import measures, verdict
from datalever.sim.scenario import Scenario

OUTPUTS = ("operator_change", "platform_change", "people_change", "positive_sum")
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


def run_point(scenario: Scenario, policy: Policy, values: dict[str, float]) -> dict[str, float]:
    """One sweep point: baseline and policy side by side; each party's headline change and the verdict."""
    chosen, rules = apply(scenario, policy, values)
    baseline, with_policy = run_simulations(chosen, [None, rules], ["baseline", "policy"], threads=1)
    result = verdict(measures(baseline, with_policy))
    parties = result["parties"]
    return {
        **values,
        "operator_change": parties["operator"]["change_percent"],
        "platform_change": parties["platform"]["change_percent"],
        "people_change": parties["people"]["change_percent"],
        "positive_sum": float(result["positive_sum"]),
    }


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
    # Imported as an untyped module: distributed's partial annotations do not satisfy mypy --strict.
    dist: Any = importlib.import_module("distributed")

    cluster = None
    if scheduler is None:
        cluster = dist.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = dist.Client(cluster)
    else:
        client = dist.Client(scheduler)
    try:
        futures = [client.submit(run_point, scenario, policy, point, pure=False) for point in points]
        index = {future.key: i for i, future in enumerate(futures)}
        rows: list[dict[str, float] | None] = [None] * len(points)
        for done, future in enumerate(dist.as_completed(futures), start=1):
            rows[index[future.key]] = future.result()
            if on_done is not None:
                on_done(done)
        return [row for row in rows if row is not None]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


DEFAULT_PARAMETERS = (
    "ai.compute_cost_cents_per_query=0.1:0.6",
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
    }
    (out / "sensitivity.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    parties = ("operator_change", "platform_change", "people_change")
    png = grouped_bars(
        out / "sensitivity.png",
        "What each party's outcome depends on: total-order Sobol index",
        [p.name for p in parameters],
        {party.removesuffix("_change"): [indices[party][p.name]["ST"] for p in parameters] for party in parties},
        errors={
            party.removesuffix("_change"): [indices[party][p.name]["ST_conf"] for p in parameters] for party in parties
        },
        ylabel="share of variance (ST)",
    )
    return [out / "sweep.parquet", out / "sensitivity.json", png]
