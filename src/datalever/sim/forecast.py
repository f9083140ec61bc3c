"""Forecasts of Stack Overflow questions per tag and month from the posterior, with intervals and a backtest.

A forecast draw takes one posterior particle (adoption curve and per-tag AI affinity), one of 16 AI capability
trajectories (the scenario's random walk, read from ABM runs with different seeds), one draw of every tag's
trend from its uncertainty (a platform-wide part shared by all tags and each tag's own part), and log-normal
monthly noise with the tag's residual sd; `tag=all` is the sum of the tags within each draw. The backtest refits
on data up to a cut-off month and scores the months after it against two naive forecasts: the flat level (mean of
the last three months) and a log-linear trend fitted on the last 24 months.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from datalever.sim.abc import Generation
from datalever.sim.flow import first_ai_month
from datalever.sim.posterior import Posterior, fit_posterior
from datalever.sim.scenario import Scenario
from datalever.sim.sodata import TagTable, month_text

F64 = npt.NDArray[np.float64]
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def predictive(
    post: Posterior, months: npt.NDArray[np.int64], rng: np.random.Generator, *, capability_paths: int = 16
) -> F64:
    """Simulated questions (draws x tags x months): one draw per posterior particle.

    AI capability follows the scenario's uncertain trajectory: `capability_paths` ABM runs with different seeds
    give as many utility-gap paths, and particle i uses path i mod that number.
    """
    from datalever.sim.flow import gap_path

    n = post.theta.shape[0]
    level, slope = post.baselines.draw(n, rng)
    log_y = post.baselines.log_expected(months, level, slope)
    after = months >= first_ai_month()
    if after.any():
        posted = np.empty((n, len(post.tags), post.path.months.size))
        for i in range(capability_paths):
            path = gap_path(post.scenario, post.path.months, seed=1_000 + i)
            posted[i::capability_paths] = post.posted(post.theta[i::capability_paths], path)
        columns = months[after] - int(post.path.months[0])
        log_y[:, :, after] += np.log(np.maximum(posted[:, :, columns], 1e-9))
    log_y += post.baselines.sigma[None, :, None] * rng.standard_normal(log_y.shape)
    return np.asarray(np.exp(log_y), dtype=np.float64)


@dataclass
class Forecast:
    """Quantiles of questions per month for each tag and for all tags together."""

    months: npt.NDArray[np.int64]
    tags: tuple[str, ...]  # the 14 tags, then "all"
    quantiles: F64  # len(QUANTILES) x (tags + 1) x months


def forecast(post: Posterior, until: int, rng: np.random.Generator, *, capability_paths: int = 16) -> Forecast:
    months = np.arange(post.cutoff + 1, until + 1, dtype=np.int64)
    draws = predictive(post, months, rng, capability_paths=capability_paths)
    with_all = np.concatenate([draws, draws.sum(axis=1, keepdims=True)], axis=1)
    return Forecast(months, (*post.tags, "all"), np.quantile(with_all, QUANTILES, axis=0))


def write_csv(result: Forecast, path: Path) -> Path:
    """forecast.csv: month,tag,median,p05,p95 (questions per calendar month)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lo, mid, hi = QUANTILES.index(0.05), QUANTILES.index(0.5), QUANTILES.index(0.95)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["month", "tag", "median", "p05", "p95"])
        for j, month in enumerate(result.months):
            for k, tag in enumerate(result.tags):
                q = result.quantiles[:, k, j]
                writer.writerow([month_text(int(month)), tag, f"{q[mid]:.0f}", f"{q[lo]:.0f}", f"{q[hi]:.0f}"])
    return path


def fan_chart(result: Forecast, table: TagTable, path: Path, *, history_from: int) -> Path:
    """All tags together and each tag: observed history, median forecast, 50% and 90% bands (log scale per tag)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    from datalever.reports.plots import PALETTE

    observed = np.concatenate([table.counts, table.counts.sum(axis=0, keepdims=True)])
    hist_cols = np.arange(history_from - table.first, table.counts.shape[1])
    hist_x = table.months[hist_cols]
    fig = plt.figure(figsize=(13, 11))
    grid = fig.add_gridspec(5, 4)
    axes = [fig.add_subplot(grid[0:2, :])] + [fig.add_subplot(grid[2 + i // 4, i % 4]) for i in range(12)]
    order = [len(result.tags) - 1, *np.argsort(-observed[:-1, -1])[:12]]

    def years(x: npt.NDArray[np.int64]) -> F64:
        return np.asarray(x / 12.0, dtype=np.float64)

    for ax, k in zip(axes, order, strict=True):
        q = result.quantiles[:, k, :]
        fx = years(result.months)
        ax.fill_between(fx, q[0], q[4], color=PALETTE[0], alpha=0.18, lw=0, label="90% interval")
        ax.fill_between(fx, q[1], q[3], color=PALETTE[0], alpha=0.35, lw=0, label="50% interval")
        ax.plot(fx, q[2], color=PALETTE[0], lw=1.6, label="median forecast")
        ax.plot(years(hist_x), observed[k, hist_cols], color="black", lw=1.0, label="observed")
        ax.axvline(years(np.array([first_ai_month()]))[0], color=PALETTE[1], lw=0.8, ls=":")
        ax.set_title(
            result.tags[k] if k < len(result.tags) - 1 else "all 14 tags", fontsize=10 if k else 12, loc="left"
        )
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=7)
    axes[0].legend(frameon=False, fontsize=9, loc="upper right")
    axes[0].set_ylabel("questions per month", fontsize=9)
    fig.suptitle(
        "Stack Overflow questions per month: forecast from the SMC-ABC posterior (dotted: ChatGPT's release); "
        "12 largest tags below",
        fontsize=11,
        x=0.01,
        ha="left",
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return path


def _naive(series: F64, horizon: int) -> tuple[F64, F64]:
    """Flat level (mean of the last 3 months) and log-linear trend on the last 24 months, `horizon` months on."""
    flat = np.full(horizon, series[-3:].mean())
    recent = np.log(np.maximum(series[-24:], 0.5))
    x = np.arange(recent.size, dtype=float)
    slope, intercept = np.polyfit(x, recent, 1)
    trend = np.exp(intercept + slope * (recent.size - 1 + np.arange(1, horizon + 1)))
    return flat, trend


def _mape(predicted: F64, actual: F64) -> float:
    return float(np.mean(np.abs(predicted - actual) / actual) * 100.0)


def backtest(
    scenario: Scenario,
    table: TagTable,
    cutoffs: Sequence[int],
    *,
    particles: int,
    seeds: tuple[int, ...],
    capability_paths: int = 16,
    on_generation: Callable[[int, Generation], None] | None = None,
) -> list[dict[str, Any]]:
    """Fit to each cut-off, forecast to the last observed month, score against the flat and trend baselines."""
    rows = []
    for cutoff in cutoffs:
        post = fit_posterior(
            scenario,
            table,
            cutoff=cutoff,
            horizon=table.last,
            particles=particles,
            seeds=seeds,
            on_generation=on_generation,
        )
        result = forecast(post, table.last, np.random.default_rng(seeds[0] + 1000), capability_paths=capability_paths)
        columns = result.months - table.first
        actual = np.concatenate([table.counts[:, columns], table.counts[:, columns].sum(axis=0, keepdims=True)])
        horizon = columns.size
        history = np.concatenate([table.counts, table.counts.sum(axis=0, keepdims=True)])[:, : cutoff - table.first + 1]
        scores: dict[str, dict[str, float]] = {}
        for name in ("model", "flat level", "log-linear trend"):
            per_series = []
            for k in range(actual.shape[0]):
                if name == "model":
                    predicted = result.quantiles[QUANTILES.index(0.5), k]
                else:
                    flat, trend = _naive(history[k], horizon)
                    predicted = flat if name == "flat level" else trend
                per_series.append(_mape(predicted, actual[k]))
            scores[name] = {"all": per_series[-1], "tags_mean": float(np.mean(per_series[:-1]))}
        inside = (actual >= result.quantiles[0]) & (actual <= result.quantiles[-1])
        rows.append(
            {
                "cutoff": month_text(cutoff),
                "months": [month_text(int(m)) for m in result.months],
                "mape_percent": scores,
                "coverage_90": {"all": float(inside[-1].mean()), "tags": float(inside[:-1].mean())},
                "prior_only": post.prior_only,
            }
        )
    return rows
