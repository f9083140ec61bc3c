"""`datalever calibrate` and `datalever forecast`: fit the posterior, write what the user reads and runs.

The science lives in `flow` (the reduced question-flow model), `abc` (SMC-ABC), `posterior` (priors, fit,
summaries, fitted scenario) and `forecast` (predictive draws, fan chart, backtest); this module only writes
their results.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from datalever.sim.posterior import Posterior, prior, summary, write_scenario
from datalever.sim.sodata import CalibrationDataError, TagTable, month_number

__all__ = ["CalibrationDataError", "parse_month", "posterior_plot", "write_posterior"]


def parse_month(text: str, option: str) -> int:
    """A YYYY-MM option, or a one-line error naming the option."""
    try:
        return month_number(text)
    except CalibrationDataError:
        raise CalibrationDataError(f"{option}: {text!r} is not a month (expected YYYY-MM, e.g. 2025-12)") from None


def write_posterior(post: Posterior, out: Path) -> tuple[dict[str, Any], list[Path]]:
    """posterior.json, posterior.npz (every particle), the fitted scenario TOML and posterior.png."""
    out.mkdir(parents=True, exist_ok=True)
    facts = summary(post)
    json_path = out / "posterior.json"
    json_path.write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")
    particles = out / "posterior.npz"
    np.savez_compressed(particles, theta=post.theta, names=np.array(prior(post.tags).names))
    scenario = write_scenario(post, out / f"{post.scenario.name}-fitted.toml")
    return facts, [json_path, particles, scenario, posterior_plot(post, out / "posterior.png")]


def posterior_plot(post: Posterior, path: Path) -> Path:
    """Posterior of the adoption curve and of each tag's long-run AI share, against the prior."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    from datalever.reports.plots import PALETTE

    rng = np.random.default_rng(0)
    belief = prior(post.tags).sample(4_000, rng)
    prior_post = Posterior(
        post.scenario, post.tags, post.cutoff, post.baselines, post.path, belief, [], [], post.weights, post.affinity_sd
    )
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.6), gridspec_kw={"width_ratios": [1, 1, 2]})
    for ax, values, prior_values, title in (
        (axes[0], post.adoption_weeks, prior_post.adoption_weeks, "adoption scale (weeks)"),
        (
            axes[1],
            post.long_run_share() @ post.weights,
            prior_post.long_run_share() @ post.weights,
            "long-run AI share, all tags",
        ),
    ):
        top = float(np.quantile(prior_values, 0.99))
        bins = np.linspace(0, max(top, float(values.max())), 50)
        ax.hist(prior_values, bins=bins, density=True, color=PALETTE[5], alpha=0.5, label="prior")
        ax.hist(values, bins=bins, density=True, color=PALETTE[0], alpha=0.7, label="posterior")
        ax.set_title(title, fontsize=10, loc="left")
        ax.legend(frameon=False, fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    share = post.long_run_share()
    lo, mid, hi = np.quantile(share, [0.05, 0.5, 0.95], axis=0)
    order = np.argsort(mid)
    y = np.arange(len(post.tags))
    axes[2].errorbar(
        mid[order],
        y,
        xerr=[mid[order] - lo[order], hi[order] - mid[order]],
        fmt="o",
        color=PALETTE[0],
        capsize=3,
        label="posterior median, 90% interval",
    )
    axes[2].set_yticks(y, [post.tags[i] for i in order], fontsize=8)
    axes[2].set_xlim(0, 1)
    axes[2].set_title("long-run AI share of each tag's questions (prior 90%: 0.05 to 0.95)", fontsize=10, loc="left")
    axes[2].grid(True, axis="x", alpha=0.3)
    axes[2].spines[["top", "right"]].set_visible(False)
    fig.suptitle(
        f"Posterior from SMC-ABC on 14 Stack Overflow tags to the cut-off ({post.simulations:,} simulations)",
        fontsize=11,
        x=0.01,
        ha="left",
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return path


def observed_table(path: Path | None) -> TagTable:
    from datalever.sim.sodata import load_tags

    return load_tags(path)
