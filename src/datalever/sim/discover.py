"""Scenario discovery: under which policy levers and world conditions is the credit policy positive-sum?

1. Sample policy levers and uncertain world parameters together with a Latin hypercube (SciPy's qmc).
2. Run every sample with replicate seeds (baseline and policy, same people and seed: `outcomes.run_pair`) as Dask
   tasks, and take each party's absolute gain (`outcomes.party_deltas`: operator cents, platform answers,
   people's consumer surplus in cents per person-week).
3. A sample is *positive-sum by more than seed noise* when every party's mean gain over the seeds is at least
   two standard errors above zero (mean - 2 sd / sqrt(seeds) >= 0).
4. PRIM (`prim.py`) finds boxes of the inputs where such samples are dense; each box is written with its
   ranges, coverage and density, and a plain sentence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from datalever.economy import Policy
from datalever.sim.prim import Box, covering, peel
from datalever.sim.scenario import Scenario
from datalever.sim.sweep import SweepParameter, apply

F64 = npt.NDArray[np.float64]
HEADLINE = ("operator_cents", "platform_answers", "people_surplus_cents")
PARTIES = {"operator_cents": "operator", "platform_answers": "platform", "people_surplus_cents": "people"}

DEFAULT_LEVERS = (
    "policy:allowance.credits_per_month=0:300",
    "policy:stipend.credits_per_month=0:50",
    "policy:feedback.base_reward=0:10",
    "policy:query.base_price=1:4",
)
DEFAULT_WORLD = (
    "ai.compute_cost_cents_per_query=0.05:1",
    "ai.revenue_cents_per_query=0:1.5",
    "ai.compute_cost_change_per_year=0.1:1",
    "ai.feedback_value_cents=0.5:5",
    "policy_response.stipend_contribution_response=0:0.5",
    "choice.ai_affinity_mean=0.5:3",
    "people.feedback_rate_paid=0.05:0.3",
)

# Words for the sentences: what each input is, and its unit.
LABELS = {
    "policy:allowance.credits_per_month": ("the monthly allowance", "credits"),
    "policy:stipend.credits_per_month": ("the contributor stipend", "credits a month"),
    "policy:feedback.base_reward": ("the feedback reward", "credits"),
    "policy:query.base_price": ("the price of a query", "credits"),
    "scenario:ai.compute_cost_cents_per_query": ("compute cost per query", "cents"),
    "scenario:ai.revenue_cents_per_query": ("revenue per query", "cents"),
    "scenario:ai.compute_cost_change_per_year": ("the yearly compute-cost factor", ""),
    "scenario:ai.feedback_value_cents": ("the value of accepted feedback", "cents"),
    "scenario:policy_response.stipend_contribution_response": ("the contributors' response to a stipend", ""),
    "scenario:choice.ai_affinity_mean": ("the AI affinity", ""),
    "scenario:people.feedback_rate_paid": ("the share of AI answers that get paid feedback", ""),
}


def latin_hypercube(parameters: Sequence[SweepParameter], samples: int, seed: int) -> list[dict[str, float]]:
    """Samples spread evenly over every range (scrambled Latin hypercube, optimised against correlations)."""
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=len(parameters), seed=seed).random(samples)
    low = np.array([p.low for p in parameters])
    high = np.array([p.high for p in parameters])
    values = qmc.scale(unit, low, high)
    return [{p.name: float(v) for p, v in zip(parameters, row, strict=True)} for row in values]


def run_sample(values: dict[str, float], scenario: Scenario, policy: Policy, seeds: Sequence[int]) -> dict[str, Any]:
    """One sample under every seed: the headline deltas per seed (a Dask task)."""
    from datalever.sim.outcomes import party_deltas, run_pair

    chosen, rules = apply(scenario, policy, values)
    per_seed = [party_deltas(run_pair(chosen, rules, seed=seed)) for seed in seeds]
    return {**values, **{f"{key}@{seed}": d[key] for seed, d in zip(seeds, per_seed, strict=True) for key in HEADLINE}}


def no_worse_off(rows: Sequence[dict[str, Any]], seeds: Sequence[int]) -> npt.NDArray[np.bool_]:
    """Per sample and party (samples x parties): mean gain over the seeds at least 2 standard errors above 0."""
    n = len(seeds)
    ok = np.zeros((len(rows), len(HEADLINE)), dtype=bool)
    for k, key in enumerate(HEADLINE):
        values = np.array([[row[f"{key}@{seed}"] for seed in seeds] for row in rows])
        se = values.std(axis=1, ddof=1) / math.sqrt(n) if n > 1 else np.zeros(len(rows))
        ok[:, k] = values.mean(axis=1) - 2.0 * se >= 0.0
    return ok


def robust_positive(rows: Sequence[dict[str, Any]], seeds: Sequence[int]) -> npt.NDArray[np.bool_]:
    """Positive-sum by more than seed noise: every party no worse off beyond seed noise."""
    return np.asarray(no_worse_off(rows, seeds).all(axis=1), dtype=np.bool_)


@dataclass
class Discovery:
    parameters: list[SweepParameter]
    rows: list[dict[str, Any]]
    seeds: list[int]
    positive: npt.NDArray[np.bool_]
    boxes: list[Box]
    party_ok: npt.NDArray[np.bool_]  # samples x parties: each party no worse off beyond seed noise
    party_boxes: dict[str, Box]  # for each party alone: where it is no worse off (shows conflicts)


def discover(
    scenario: Scenario,
    policy: Policy,
    parameters: Sequence[SweepParameter],
    *,
    samples: int,
    seeds: Sequence[int],
    scheduler: str | None = None,
    workers: int | None = None,
    threshold: float = 0.8,
    on_done: Callable[[int], None] | None = None,
) -> Discovery:
    """Sample, run on Dask, classify, and find the PRIM boxes."""
    from datalever.sim.cluster import run_tasks

    points = latin_hypercube(parameters, samples, scenario.run.seed)
    rows = run_tasks(
        run_sample, points, scenario, policy, list(seeds), scheduler=scheduler, workers=workers, on_done=on_done
    )
    party_ok = no_worse_off(rows, seeds)
    positive = np.asarray(party_ok.all(axis=1), dtype=np.bool_)
    x = np.array([[row[p.name] for p in parameters] for row in rows])
    boxes = covering(x, positive, threshold=threshold) if positive.sum() >= 5 else []
    party_boxes = {
        PARTIES[key]: peel(x, party_ok[:, k], threshold=threshold)
        for k, key in enumerate(HEADLINE)
        if 5 <= party_ok[:, k].sum() < len(rows)
    }
    return Discovery(list(parameters), rows, list(seeds), positive, boxes, party_ok, party_boxes)


def _number(value: float) -> str:
    return f"{value:.3g}"


def sentence(
    box: Box, parameters: Sequence[SweepParameter], full_low: F64, full_high: F64, who: str | None = None
) -> str:
    """'Positive-sum ... when compute cost per query is below X cents and the allowance is at most Y credits.'"""
    parts = []
    for j in box.restricted(full_low, full_high):
        name, unit = LABELS.get(parameters[j].name, (parameters[j].key, ""))
        unit = f" {unit}" if unit else ""
        lower, upper = box.low[j] > full_low[j], box.high[j] < full_high[j]
        if lower and upper:
            parts.append(f"{name} is between {_number(box.low[j])} and {_number(box.high[j])}{unit}")
        elif upper:
            parts.append(f"{name} is at most {_number(box.high[j])}{unit}")
        else:
            parts.append(f"{name} is at least {_number(box.low[j])}{unit}")
    where = "when " + " and ".join(parts) if parts else "everywhere in the sampled ranges"
    if who is None:
        return (
            f"Positive-sum by more than seed noise in {box.density:.0%} of the sampled worlds {where} "
            f"(this box holds {box.coverage:.0%} of all positive-sum samples and {box.support:.0%} of all samples)."
        )
    return (
        f"{'People are' if who == 'people' else f'The {who} is'} no worse off (beyond seed noise) in "
        f"{box.density:.0%} of the sampled worlds {where} "
        f"(this box holds {box.coverage:.0%} of the samples where it is, and {box.support:.0%} of all samples)."
    )


def summary(result: Discovery) -> dict[str, Any]:
    x = np.array([[row[p.name] for p in result.parameters] for row in result.rows])
    low, high = x.min(axis=0), x.max(axis=0)
    boxes = []
    for box in result.boxes:
        boxes.append(
            {
                "coverage": box.coverage,
                "density": box.density,
                "support": box.support,
                "ranges": {
                    result.parameters[j].name: [float(box.low[j]), float(box.high[j])]
                    for j in box.restricted(low, high)
                },
                "sentence": sentence(box, result.parameters, low, high),
            }
        )
    parties = {
        who: {
            "no_worse_off_share": float(result.party_ok[:, list(PARTIES.values()).index(who)].mean()),
            "coverage": box.coverage,
            "density": box.density,
            "ranges": {
                result.parameters[j].name: [float(box.low[j]), float(box.high[j])] for j in box.restricted(low, high)
            },
            "sentence": sentence(box, result.parameters, low, high, who),
        }
        for who, box in result.party_boxes.items()
    }
    return {
        "samples": len(result.rows),
        "seeds": result.seeds,
        "runs": 2 * len(result.rows) * len(result.seeds),
        "positive_sum_share": float(result.positive.mean()),
        "no_worse_off_share": {who: float(result.party_ok[:, k].mean()) for k, who in enumerate(PARTIES.values())},
        "parties": parties,
        "rule": "every party's mean gain over the seeds >= 2 standard errors above zero",
        "parameters": [p.__dict__ for p in result.parameters],
        "boxes": boxes,
    }


def write_discovery(result: Discovery, out: Path) -> tuple[dict[str, Any], list[Path]]:
    """discover.parquet (every sample and seed), boxes.json, conditions.md and discover.png."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    facts = summary(result)
    columns = list(result.rows[0]) if result.rows else []
    table = pa.table({name: [row[name] for row in result.rows] for name in columns})
    table = table.append_column("positive_sum_robust", pa.array(result.positive.tolist()))
    pq.write_table(table, out / "discover.parquet")
    (out / "boxes.json").write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# Conditions for a positive-sum credit policy",
        "",
        f"{facts['samples']:,} Latin-hypercube samples x {len(result.seeds)} seeds; "
        f"{facts['positive_sum_share']:.0%} positive-sum by more than seed noise ({facts['rule']}).",
        "",
    ]
    lines += [f"{i}. {box['sentence']}" for i, box in enumerate(facts["boxes"], start=1)] or [
        "No region found: too few samples were positive-sum by more than seed noise for PRIM (at least 5)."
    ]
    lines += ["", "## Each party alone", ""]
    lines += [
        f"* {who}: no worse off in {share:.0%} of the samples."
        + (f" {facts['parties'][who]['sentence']}" if who in facts["parties"] else "")
        for who, share in facts["no_worse_off_share"].items()
    ]
    (out / "conditions.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return facts, [
        out / "discover.parquet",
        out / "boxes.json",
        out / "conditions.md",
        plot(result, out / "discover.png"),
    ]


def plot(result: Discovery, path: Path) -> Path:
    """Left: PRIM's peeling trajectory (coverage against density). Right: samples on the first box's two most
    restricted inputs, positive-sum ones coloured, with the box drawn."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from datalever.reports.plots import PALETTE

    x = np.array([[row[p.name] for p in result.parameters] for row in result.rows])
    low, high = x.min(axis=0), x.max(axis=0)
    joint = bool(result.boxes)
    shown = (
        [(f"box {i + 1}", b) for i, b in enumerate(result.boxes)]
        if joint
        else [(f"{who} no worse off", b) for who, b in result.party_boxes.items()]
    )
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    for i, (label, box) in enumerate(shown):
        cov, dens = zip(*box.trajectory, strict=True)
        axes[0].plot(cov, dens, "-", color=PALETTE[i % len(PALETTE)], lw=1, alpha=0.7)
        axes[0].plot([box.coverage], [box.density], "o", color=PALETTE[i % len(PALETTE)], ms=8, label=label)
    what = "positive-sum" if joint else "no-worse-off"
    axes[0].set_xlabel(f"coverage (share of {what} samples inside the box)")
    axes[0].set_ylabel(f"density (share of samples inside that are {what})")
    axes[0].set_xlim(0, 1.02)
    axes[0].set_ylim(0, 1.02)
    axes[0].set_title("PRIM peeling trajectory", loc="left", fontsize=11)
    axes[0].grid(True, alpha=0.3)
    if shown:
        axes[0].legend(frameon=False, fontsize=8)
    ax = axes[1]
    restricted: list[int] = []
    for _, box in shown:
        restricted += [j for j in box.restricted(low, high) if j not in restricted]
    a, b = (restricted + [j for j in range(x.shape[1]) if j not in restricted])[:2]
    if joint:
        ok = result.positive
        ax.scatter(x[~ok, a], x[~ok, b], s=6, color=PALETTE[5], alpha=0.35, label="not positive-sum")
        ax.scatter(x[ok, a], x[ok, b], s=8, color=PALETTE[2], alpha=0.8, label="positive-sum beyond seed noise")
    else:
        ax.scatter(x[:, a], x[:, b], s=5, color=PALETTE[5], alpha=0.25, label="sample")
        for i, (label, _) in enumerate(shown):
            k = list(PARTIES.values()).index(label.split(" ")[0])
            mask = result.party_ok[:, k]
            ax.scatter(x[mask, a], x[mask, b], s=7, color=PALETTE[i % len(PALETTE)], alpha=0.6, label=label)
    for i, (_, box) in enumerate(shown):
        ax.add_patch(
            Rectangle(
                (box.low[a], box.low[b]),
                box.high[a] - box.low[a],
                box.high[b] - box.low[b],
                fill=False,
                lw=2,
                color=PALETTE[i % len(PALETTE)],
            )
        )
    ax.set_xlabel(result.parameters[a].name)
    ax.set_ylabel(result.parameters[b].name)
    ax.set_title("samples and boxes on two restricted inputs (others projected out)", loc="left", fontsize=11)
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    fig.suptitle(
        f"Scenario discovery: {len(result.rows):,} samples x {len(result.seeds)} seeds, "
        f"{result.positive.mean():.0%} positive-sum" + ("" if joint else "; no joint region, so each party's own box"),
        x=0.01,
        ha="left",
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return path
