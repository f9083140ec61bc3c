"""Writes a simulation's outputs: report.html, PNG plots, series.parquet and summary.json.

The report leads with what matters for a decision: the conditions under which the policy is positive-sum
(from `datalever discover`), the forecast fan (from `datalever forecast`), welfare by group, then the three
parties, the ecosystem, the credits (including how many expire) and, plainly, what the model leaves out.
Conditions and forecast come from other analyses through `ReportExtras`; without them the report says how to
get them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from datalever.economy import credits_to_cents
from datalever.reports import Panel, Report, Section, Table, small_multiples, write_report
from datalever.reports.numbers import format_number
from datalever.sim.engine import METRICS, RunResult
from datalever.sim.outcomes import summarize

LEFT_OUT = (
    "One knowledge platform and one AI operator: no competing assistants, platforms or search engines, and "
    "no strategic response by the platform or the operator (prices, licensing deals, the platform's own AI).",
    "Questions are units, not content: a question is found, a duplicate, new (answered or not) or taken by "
    "the AI; answer quality is one number between 0 and 1, the same for everyone.",
    "People do not plan, learn or change how often they ask; the effort contributors spend answering is not "
    "counted in their welfare; the AI's wrong answers are only in its average quality.",
    "Allowance credits count for nothing in welfare except the queries they buy (they cannot be sold); earned "
    "credits count at their published value, as for the operator. Redemption, donations, community pools and "
    "votes (stages 3 and 4) are not simulated; gaming is limited to a share of spam feedback.",
    "The operator's revenue and compute cost are per-query averages on dated trajectories; subscriptions, "
    "training and fixed costs, and any effect of the policy on subscriptions are left out.",
    "The AI learns only from this platform's stock, plus an uncertain exogenous capability path; other "
    "sources, synthetic data and licensing are not modelled.",
    "The platform's pre-existing decline is an exogenous trend; calibration uses Stack Overflow question "
    "counts only, and most parameters are assumptions with ranges (docs/simulator.md, section 9).",
)


@dataclass(frozen=True)
class ReportExtras:
    """What other analyses hand to the report; every part is optional.

    conditions: the boxes of `datalever discover`, each a mapping with at least "sentence" (a plain sentence:
    "positive-sum when ..."), and optionally "coverage", "density" (floats 0-1) and "ranges" (name -> [low,
    high]). conditions_plot / forecast_fan: PNG files to embed. replicates: `party_deltas` of further seeds.
    """

    conditions: Sequence[Mapping[str, Any]] = ()
    conditions_plot: Path | None = None
    conditions_source: str = ""
    forecast_fan: Path | None = None
    forecast_caption: str = ""
    replicates: Sequence[Mapping[str, float]] = ()


def load_conditions(path: Path) -> list[dict[str, Any]]:
    """Boxes from a JSON file: a list of boxes or an object with a "boxes" list; each needs a "sentence"."""
    data = json.loads(path.read_text(encoding="utf-8"))
    boxes = data.get("boxes") if isinstance(data, dict) else data
    if isinstance(data, dict) and boxes == [] and isinstance(data.get("parties"), dict):
        # `datalever discover` found no joint region: show each party's own region instead, marked as such.
        boxes = [{**box, "party": party} for party, box in data["parties"].items() if isinstance(box, dict)]
    if not isinstance(boxes, list) or not all(
        isinstance(b, dict) and isinstance(b.get("sentence"), str) for b in boxes
    ):
        raise ValueError(f"{path}: expected a list of boxes (or {{'boxes': [...]}}), each with a 'sentence'")
    return boxes


def week_dates(result: RunResult) -> list[str]:
    start = result.scenario.run.start
    return [(start + timedelta(weeks=w)).isoformat() for w in range(result.scenario.run.weeks)]


def write_series(results: Sequence[RunResult], path: Path) -> Path:
    """Every weekly metric of every run, long by run: columns run, week, date, then one column per metric."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns: dict[str, list[Any]] = {"run": [], "week": [], "date": []}
    for name in METRICS:
        columns[name] = []
    for result in results:
        weeks = result.scenario.run.weeks
        columns["run"] += [result.label] * weeks
        columns["week"] += list(range(weeks))
        columns["date"] += week_dates(result)
        for name in METRICS:
            columns[name] += result.series[name].tolist()
    table = pa.table(columns)
    pq.write_table(table, path)
    return path


def _years(result: RunResult) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.arange(result.scenario.run.weeks) / 52.0


def rolling_mean(values: np.ndarray[Any, Any], weeks: int = 4) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Trailing mean over `weeks` (shorter at the start), to show trends through the monthly credit cycle."""
    cumulative = np.cumsum(np.asarray(values, dtype=np.float64))
    out = cumulative.copy()
    out[weeks:] = cumulative[weeks:] - cumulative[:-weeks]
    counts = np.minimum(np.arange(1, len(out) + 1), weeks)
    return out / counts


def monthly(result: RunResult, name: str, how: str = "sum") -> tuple[list[str], np.ndarray[Any, Any]]:
    """A weekly series per calendar month (of each week's start): sum, mean per week, or last value."""
    months: dict[str, list[float]] = {}
    for day, value in zip(week_dates(result), result.series[name], strict=True):
        months.setdefault(day[:7], []).append(float(value))
    if len(months) > 1 and len(months[next(reversed(months))]) < 4:  # the run ended early in its last month
        months.pop(next(reversed(months)))
    pick = {"sum": sum, "last": lambda v: v[-1], "mean": lambda v: sum(v) / len(v)}[how]
    values = [pick(v) for v in months.values()]
    return list(months), np.array(values)


def weekly_people_cents(result: RunResult) -> np.ndarray[Any, np.dtype[np.float64]]:
    """People's money-metric welfare each week, in cents: surplus / price coefficient + earned credits."""
    s = result.series
    value = result.policy.credit.value_cents if result.policy is not None else 0
    earned = (s["credits_feedback"] + s["credits_stipend"]) * value
    return np.asarray(s["surplus_utils"] / result.scenario.choice.beta_price + earned, dtype=np.float64)


def write_plots(baseline: RunResult, policy: RunResult, summary: dict[str, Any], out: Path) -> dict[str, Path]:
    x = _years(baseline)
    b, p = baseline.series, policy.series
    dash = {"no policy": "--"}

    def pair(name: str, scale: float = 1.0, smooth: bool = True) -> dict[str, Any]:
        shape = rolling_mean if smooth else (lambda v: v)
        return {"no policy": shape(b[name]) * scale, "credit policy": shape(p[name]) * scale}

    xlabel = f"years from {baseline.scenario.run.start.isoformat()}"
    ecosystem = small_multiples(
        out / "ecosystem.png",
        "The knowledge commons with and without the credit policy (flows: 4-week averages)",
        x,
        [
            Panel("Questions taken to the platform per week", pair("platform_questions"), "questions", dash),
            Panel("New questions posted per week (duplicates included)", pair("questions_posted"), "questions", dash),
            Panel("Platform knowledge stock", pair("knowledge_stock", smooth=False), "answered questions", dash),
            Panel("Chance a search finds an answer", pair("find_probability", smooth=False), "share", dash),
            Panel("AI answer quality (0-1)", pair("ai_quality", smooth=False), "quality", dash),
            Panel("Share of questions answered by the AI", pair("ai_share", 100.0), "%", dash),
            Panel("Answers contributed per week", pair("answers"), "answers", dash),
            Panel("Time to a first answer (hours)", pair("time_to_answer_hours"), "hours", dash),
        ],
        xlabel=xlabel,
    )
    agents = policy.scenario.run.agents
    people_gap = np.cumsum(weekly_people_cents(policy) - weekly_people_cents(baseline)) / agents
    parties = small_multiples(
        out / "parties.png",
        "Policy minus no policy, accumulated over the run (absolute units; above zero: the party gains)",
        x,
        [
            Panel(
                "Operator: net value (cents)",
                {"policy - no policy": np.cumsum(p["operator_net_cents"] - b["operator_net_cents"])},
                "cents",
                ylim_zero=False,
            ),
            Panel(
                "Platform: answers contributed",
                {"policy - no policy": np.cumsum(p["answers"] - b["answers"])},
                "answers",
                ylim_zero=False,
            ),
            Panel(
                "People: consumer surplus per person (cents)",
                {"policy - no policy": people_gap},
                "cents per person",
                ylim_zero=False,
            ),
        ],
        xlabel=xlabel,
        columns=3,
        width=13.0,
    )
    welfare = welfare_bars(out / "welfare.png", summary["welfare_by_group"])
    months, _ = monthly(policy, "credits_allowance")
    flows = {
        "allowance issued": "credits_allowance",
        "feedback credits": "credits_feedback",
        "stipends": "credits_stipend",
        "spent on AI queries": "credits_spent",
        "expired": "credits_expired",
    }
    month_x = np.arange(len(months)) / 12.0
    credits = small_multiples(
        out / "credits.png",
        "Credits under the policy, per calendar month",
        month_x,
        [
            Panel(
                "Credit flows per month (log scale)",
                {label: np.maximum(monthly(policy, key)[1], 1.0) for label, key in flows.items()},
                "credits",
                {"spent on AI queries": "--", "expired": "--"},
                log=True,
            ),
            Panel(
                "Outstanding credits (end of month): the operator's liability",
                {"outstanding credits": monthly(policy, "credits_outstanding", "last")[1]},
                "credits",
            ),
            Panel(
                "Questions sent to the platform because the asker was out of credits (per week, monthly mean)",
                {"fallback questions": monthly(policy, "fallback_questions", "mean")[1]},
                "questions per week",
            ),
        ],
        xlabel=f"years from {months[0]}",
        columns=1,
        width=11.0,
        panel_height=3.0,
    )
    return {"ecosystem": ecosystem, "parties": parties, "welfare": welfare, "credits": credits}


def welfare_bars(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Horizontal bars of each group's change in consumer surplus (cents per person-week), as a PNG."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    labels = ["everyone" if r["group"] == "everyone" else f"{r['group']}: {r['value']}" for r in rows]
    values = np.array([r["change_cents_per_week"] for r in rows], dtype=float)
    fig, ax = plt.subplots(figsize=(9.0, 0.32 * len(rows) + 1.5))
    y = np.arange(len(rows))[::-1]
    ax.barh(y, values, color=["#2a9d8f" if v >= 0 else "#d1495b" for v in values])
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0, color="black", linewidth=0.8)
    span = max(float(np.max(np.abs(values))) if values.size else 1.0, 1e-9)
    for yi, v in zip(y, values, strict=True):
        ax.text(
            v + (0.02 if v >= 0 else -0.02) * span,
            yi,
            f"{v:+.2f}",
            va="center",
            ha="left" if v >= 0 else "right",
            fontsize=7,
        )
    ax.set_xlim(-1.25 * span, 1.25 * span)
    ax.set_xlabel("change in consumer surplus, cents per person-week (policy minus no policy)", fontsize=9)
    ax.set_title("People: welfare by group", fontsize=12, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})  # fixed metadata: same data, same bytes
    plt.close(fig)
    return path


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    return format_number(value)


def _signed(value: float) -> str:
    return f"{value:+,.3f}" if abs(value) < 10 else f"{value:+,.0f}"


def expiry_sentence(credits: Mapping[str, float]) -> str:
    """The share of issued credits that expire, said plainly."""
    if not credits["issued"]:
        return "The policy issued no credits."
    return (
        f"{credits['expired_share']:.0%} of the {credits['issued']:,.0f} credits issued expired unspent "
        f"({credits['allowance_expired_share']:.0%} of the allowance); {credits['spent'] / credits['issued']:.0%} "
        f"were spent on AI queries and {credits['outstanding'] / credits['issued']:.0%} are still held at the end."
    )


def replicate_sentence(summary: Mapping[str, Any]) -> str:
    """Seed noise of the headline deltas, when replicate seeds were run."""
    rep = summary.get("replicates")
    if not rep:
        return (
            "One seed only: the changes above include seed noise of unknown size (run `datalever simulate "
            "--replicates N` to measure it)."
        )
    parts = []
    for key, unit in (
        ("operator_cents", "cents"),
        ("platform_answers", "answers"),
        ("people_surplus_cents", "cents per person-week"),
    ):
        r = rep[key]
        parts.append(f"{key.split('_')[0]} {r['mean']:+,.4g} (5-95%: {r['p05']:+,.4g} to {r['p95']:+,.4g}) {unit}")
    return (
        f"Over {rep['seeds']} seeds (this one included): " + "; ".join(parts) + f". Positive-sum in "
        f"{rep['positive_sum_share']:.0%} of the seeds."
    )


def conditions_section(extras: ReportExtras) -> Section:
    """The conditions for a positive-sum outcome, from `datalever discover` (or how to get them)."""
    if not extras.conditions:
        return Section(
            "Conditions for a positive-sum outcome",
            [
                "Not computed for this report. A single run gives one verdict for one guess of the uncertain "
                "parameters; `datalever discover` samples the policy levers and the world's uncertain parameters "
                "with replicate seeds and finds the regions (boxes) where the policy is positive-sum by more than "
                "seed noise. Pass its boxes with `datalever simulate --conditions BOXES.json` to lead the report "
                "with them."
            ],
        )
    rows = []
    for box in extras.conditions:
        ranges = box.get("ranges") or {}
        rows.append(
            [
                str(box["sentence"]),
                f"{box['coverage']:.0%}" if isinstance(box.get("coverage"), int | float) else "",
                f"{box['density']:.0%}" if isinstance(box.get("density"), int | float) else "",
                "; ".join(f"{k} in [{v[0]:.4g}, {v[1]:.4g}]" for k, v in ranges.items()),
            ]
        )
    paragraphs = [
        "Where in the space of policy levers and uncertain world parameters the policy is positive-sum by more "
        "than seed noise (PRIM boxes; coverage: share of all positive-sum samples inside the box; density: "
        "share of samples in the box that are positive-sum)."
    ]
    if any("party" in box for box in extras.conditions):
        paragraphs.append(
            "No region was found where all three parties gain by more than seed noise at once; the rows are each "
            "party's own region where it is no worse off."
        )
    if extras.conditions_source:
        paragraphs.append(f"Source: {extras.conditions_source}.")
    images = [extras.conditions_plot] if extras.conditions_plot else []
    return Section(
        "Conditions for a positive-sum outcome",
        paragraphs,
        images,
        [Table(["condition", "coverage", "density", "ranges"], rows)],
    )


def forecast_section(extras: ReportExtras) -> Section:
    """The forecast fan, from `datalever forecast` (or how to get it)."""
    if extras.forecast_fan is None:
        return Section(
            "Forecast of platform activity",
            [
                "Not attached. `datalever forecast --scenario stackoverflow-2022 --until 2025-12 --out DIR` "
                "projects monthly questions per tag with 90% intervals from the calibrated posterior; pass its fan "
                "chart with `datalever simulate --forecast DIR/fan.png`."
            ],
        )
    return Section(
        "Forecast of platform activity",
        [extras.forecast_caption or "Questions per month with 90% intervals, from `datalever forecast`."],
        [extras.forecast_fan],
    )


def build_report(
    summary: dict[str, Any], plots: dict[str, Path], outputs: Sequence[str], extras: ReportExtras | None = None
) -> Report:
    extras = extras or ReportExtras()
    v = summary["verdict"]
    rows = [
        [m["party"], m["measure"], _fmt(m["baseline"]), _fmt(m["policy"]), _signed(m["change"])]
        for m in summary["measures"]
    ]
    c = summary["credits"]
    credit_rows = [[k, f"{c[k]:,.0f}"] for k in ("issued", "spent", "expired", "outstanding", "unaccounted")]
    years = summary["weeks"] / 52
    b, p = summary["totals"]["baseline"], summary["totals"]["policy"]
    paid_out = credits_to_cents(p["credits_feedback"] + p["credits_stipend"], summary["credit_value_cents"])
    operator = (
        "Operator, in cents over the horizon (no policy in brackets): "
        f"revenue {p['revenue_cents']:,.0f} ({b['revenue_cents']:,.0f}), "
        f"compute cost {p['compute_cost_cents']:,.0f} ({b['compute_cost_cents']:,.0f}), value of accepted feedback "
        f"{p['feedback_value_cents']:,.0f} ({b['feedback_value_cents']:,.0f}), earned credits paid out at their "
        f"published value {paid_out:,.0f} (0)."
    )
    welfare_rows = [
        [
            r["group"],
            r["value"],
            f"{r['people']:,}",
            f"{r['baseline_cents_per_week']:,.2f}",
            f"{r['policy_cents_per_week']:,.2f}",
            f"{r['change_cents_per_week']:+,.3f}",
            f"{r['share_better_off']:.0%}",
        ]
        for r in summary["welfare_by_group"]
    ]
    everyone = summary["welfare_by_group"][0]
    return Report(
        title=f"Is the credit policy positive-sum? Scenario {summary['scenario']}",
        subtitle=f"{summary['agents']:,} people, {summary['weeks']} weeks ({years:.1f} years) from {summary['start']},"
        f" seed {summary['seed']}; policy {summary['policy']}. {expiry_sentence(c)}",
        headline=f"{v['text']} {replicate_sentence(summary)}",
        verdict="good" if v["positive_sum"] else "bad",
        sections=[
            conditions_section(extras),
            forecast_section(extras),
            Section(
                "Welfare by group",
                [
                    "People's welfare is their expected consumer surplus under the choice model: for each question, "
                    "the log-sum of the utilities of asking the AI and going to the platform, converted to cents "
                    "through the price coefficient, plus earned credits at their published value. It is what people "
                    "would pay to keep their options, so pushing someone off the AI they prefer counts as a loss. "
                    f"Everyone: {everyone['change_cents_per_week']:+,.3f} cents per person-week; "
                    f"{everyone['share_better_off']:.0%} of people are at least as well off.",
                    "Credit-balance deciles are by each person's balance at the end of the policy run (D1: lowest).",
                ],
                [plots["welfare"]],
                [
                    Table(
                        ["group", "value", "people", "no policy", "policy", "change", "at least as well off"],
                        welfare_rows,
                        caption="cents per person-week",
                    )
                ],
            ),
            Section(
                "The three parties",
                [
                    "Each party's change is an absolute difference from the same people, platform and AI without the "
                    "policy (same seed), accumulated over the run: never a percent of a number near zero.",
                    operator,
                ],
                [plots["parties"]],
                [Table(["party", "measure", "no policy", "credit policy", "change"], rows)],
            ),
            Section(
                "The ecosystem over time",
                [
                    "Dashed: no policy. Solid: the credit policy. Out of credits, people fall back to the platform, "
                    "and some AI answers cite the platform, so part of the traffic returns to the commons."
                ],
                [plots["ecosystem"]],
            ),
            Section(
                "Credit flows",
                [
                    expiry_sentence(c),
                    "Every credit issued is spent, expires or is still outstanding; the last row must be zero.",
                ],
                [plots["credits"]],
                [Table(["credits", "total"], credit_rows)],
            ),
            Section("What the model leaves out", list(LEFT_OUT)),
        ],
        meta={"outputs": ", ".join(outputs), "scenario": summary["scenario"], "policy": summary["policy"]},
        footer="datalever simulate: a vectorized agent-based model; see docs/simulator.md for the model and sources.",
    )


def write_outputs(
    baseline: RunResult,
    policy: RunResult,
    out: Path,
    *,
    policy_source: str,
    extras: ReportExtras | None = None,
) -> dict[str, Any]:
    """Everything `datalever simulate` writes; returns the summary."""
    extras = extras or ReportExtras()
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(baseline, policy, policy_source=policy_source, replicates=extras.replicates or None)
    if extras.conditions:
        summary["conditions"] = [dict(box) for box in extras.conditions]
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    write_series([baseline, policy], out / "series.parquet")
    plots = write_plots(baseline, policy, summary, out)
    names = ["report.html", *(p.name for p in plots.values()), "series.parquet", "summary.json"]
    write_report(build_report(summary, plots, names, extras), out / "report.html")
    return summary
