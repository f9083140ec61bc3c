"""Writes a simulation's outputs: report.html, PNG plots, series.parquet and summary.json."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from datalever.economy import credits_to_cents
from datalever.reports import Panel, Report, Section, Table, change_bars, small_multiples, write_report
from datalever.reports.numbers import format_number
from datalever.sim.engine import METRICS, RunResult
from datalever.sim.outcomes import summarize


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
            Panel("Platform visits per week (incl. AI citations)", pair("platform_visits"), "visits", dash),
            Panel("Platform knowledge stock", pair("knowledge_stock", smooth=False), "answered questions", dash),
            Panel("AI answer quality (0-1)", pair("ai_quality", smooth=False), "quality", dash),
            Panel("Share of questions answered by the AI", pair("ai_share", 100.0), "%", dash),
            Panel("Answers contributed per week", pair("answers"), "answers", dash),
        ],
        xlabel=xlabel,
    )
    comparable = [m for m in summary["measures"] if m["baseline"] != 0]  # a change from zero has no percentage
    changes = {m["measure"]: m["change_percent"] for m in comparable}
    groups = {m["measure"]: m["party"] for m in comparable}
    parties = change_bars(
        out / "parties.png",
        "Policy against no policy, whole run (green: better, red: worse)",
        changes,
        groups=groups,
        clip=100.0,
        lower_is_better={"compute cost (cents)", "questions sent to the fallback"},
    )
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
    return {"ecosystem": ecosystem, "parties": parties, "credits": credits}


def _fmt(value: float) -> str:
    return format_number(value)


def build_report(summary: dict[str, Any], plots: dict[str, Path], outputs: Sequence[str]) -> Report:
    v = summary["verdict"]
    rows = [
        [
            m["party"],
            m["measure"],
            _fmt(m["baseline"]),
            _fmt(m["policy"]),
            f"{m['change_percent']:+.1f}%" if m["baseline"] else "new",
        ]
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
    return Report(
        title=f"Does the credit policy keep the commons alive? Scenario {summary['scenario']}",
        subtitle=f"{summary['agents']:,} people, {summary['weeks']} weeks ({years:.1f} years) from {summary['start']},"
        f" seed {summary['seed']}; policy {summary['policy']}",
        headline=v["text"],
        verdict="good" if v["positive_sum"] else "bad",
        sections=[
            Section(
                "The three parties",
                [
                    "Each bar is one measure summed (or, for stocks, taken at the horizon) over the whole run, with "
                    "the policy against the same people, platform and AI without it (same seed).",
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
                ["Every credit issued is spent, expires or is still outstanding; the last row must be zero."],
                [plots["credits"]],
                [Table(["credits", "total"], credit_rows)],
            ),
        ],
        meta={"outputs": ", ".join(outputs), "scenario": summary["scenario"], "policy": summary["policy"]},
        footer="datalever simulate: a vectorized agent-based model; see docs/simulator.md for the model and sources.",
    )


def write_outputs(baseline: RunResult, policy: RunResult, out: Path, *, policy_source: str) -> dict[str, Any]:
    """Everything `datalever simulate` writes; returns the summary."""
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(baseline, policy, policy_source=policy_source)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    write_series([baseline, policy], out / "series.parquet")
    plots = write_plots(baseline, policy, summary, out)
    names = ["report.html", *(p.name for p in plots.values()), "series.parquet", "summary.json"]
    write_report(build_report(summary, plots, names), out / "report.html")
    return summary
