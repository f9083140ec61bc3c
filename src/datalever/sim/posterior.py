"""Bayesian calibration of AI substitution on all 14 Stack Overflow tag series (SMC-ABC on the reduced model).

Parameters (the ABC particles): `log adoption_weeks` and `log adoption_shape` (one Weibull adoption curve
shared by every tag: how fast people start considering the AI, and whether adoption starts fast or
S-shaped) and one AI affinity mean per tag (its exposure: the share of its questions the AI takes once
everyone considers it). Each tag's pre-existing trend and the shared season are estimated on the 24
months before the release (`flow.fit_baselines`) and held at their estimates in the fit; the forecast draws
them from their uncertainty.

Priors (see docs/simulator.md, section 8):
* adoption_weeks: log-normal, median 45 weeks, log-sd 0.6 (90% between 17 and 120 weeks). *Informed by
  sourced evidence*: in Stack Overflow's 2023 Developer Survey (fielded May 2023) 44% of respondents said they
  already used AI tools in their development process; with exponential adoption from 2022-11-30, 44% after 26
  weeks means a mean delay of 26 / -ln(0.56) = 45 weeks. A survey of tool use, not of platform activity.
* adoption_shape: log-normal, median 1 (exponential, the ABM's earlier fixed form), log-sd 0.5 (assumption: from
  a fast start to an S-shaped diffusion, Rogers 1962 / Bass 1969). Without it the exponential form alone would
  pin the long-run share, a certainty that comes from the functional form rather than from the data.
* platform.find_stock_elasticity: logit-normal, median 0.25 (the ABM's assumed value), logit-sd 1.2 (90%
  between 0.04 and 0.74, the ABM's documented range 0-1). It sets how much a thinning stock raises the
  questions posted (fewer searches find an answer); six months barely inform it, and it drives the long run.
* affinity mean per tag: normal(0, 2) (assumption, deliberately wide): the long-run share the AI takes among
  people who consider it ranges from about 5% to 95% a priori, because six months after the release cannot
  tell a slow adoption of a strong substitute from a fast adoption of a weak one.

Discrepancy: the log error of each tag's monthly count in units of that tag's residual sd around its trend,
squared and summed; the ABC kernel is Gaussian in it, so at the final tolerance the posterior is that of a
log-normal error model (abc.py). Residuals of monthly counts are autocorrelated, so treating the 6 x 14 errors
as independent would overstate what they tell; the final tolerance is the AR(1) long-run inflation
sqrt((1 + rho) / (1 - rho)) of the pooled lag-1 autocorrelation rho of the pre-release residuals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from datalever.sim.abc import AbcResult, Generation, NormalPrior, smc_abc
from datalever.sim.flow import (
    Baselines,
    GapPath,
    first_ai_month,
    fit_baselines,
    gap_path,
    logit_normal_mean,
    require_stackoverflow_calendar,
    seasonal_profile,
)
from datalever.sim.scenario import PeopleSection, Scenario
from datalever.sim.sodata import TagTable, month_text

F64 = npt.NDArray[np.float64]
ADOPTION_PRIOR_MEDIAN_WEEKS = 45.0
ADOPTION_PRIOR_LOG_SD = 0.6
AFFINITY_PRIOR_SD = 2.0
SHAPE_PRIOR_LOG_SD = 0.5
ELASTICITY_PRIOR_LOGIT_SD = 1.2
FIRST_TAG = 3  # columns of theta before the per-tag affinities


def _elasticity(logit: F64) -> F64:
    return np.asarray(1.0 / (1.0 + np.exp(-logit)), dtype=np.float64)


@dataclass
class Posterior:
    """Posterior particles (pooled over seeds) and what is needed to simulate from them."""

    scenario: Scenario
    tags: tuple[str, ...]
    cutoff: int  # last observed month used
    baselines: Baselines
    path: GapPath  # months from the first AI month to the horizon
    theta: F64  # particles x (3 + tags): log adoption_weeks, log adoption_shape, logit find elasticity, affinities
    seeds: list[int]
    runs: list[AbcResult]
    weights: F64  # each tag's share of questions Jun-Nov 2022 (or the last 6 months before the cut-off)
    affinity_sd: float

    @property
    def adoption_weeks(self) -> F64:
        return np.asarray(np.exp(self.theta[:, 0]), dtype=np.float64)

    @property
    def adoption_shape(self) -> F64:
        return np.asarray(np.exp(self.theta[:, 1]), dtype=np.float64)

    @property
    def find_elasticity(self) -> F64:
        return _elasticity(self.theta[:, 2])

    @property
    def affinity(self) -> F64:
        return np.asarray(self.theta[:, FIRST_TAG:], dtype=np.float64)

    @property
    def simulations(self) -> int:
        return sum(run.simulations for run in self.runs)

    @property
    def prior_only(self) -> bool:
        return self.cutoff < first_ai_month()

    def posted(self, theta: F64 | None = None, path: GapPath | None = None) -> F64:
        """Questions posted relative to the world without the AI, per particle, tag and month of the path."""
        t = self.theta if theta is None else theta
        return (path or self.path).posted(
            np.exp(t[:, 0]), np.exp(t[:, 1]), t[:, FIRST_TAG:], self.affinity_sd, self.weights, _elasticity(t[:, 2])
        )

    def share(self, theta: F64 | None = None, path: GapPath | None = None) -> F64:
        """AI share per particle, tag and month of the path (the fit's mean capability path by default)."""
        t = self.theta if theta is None else theta
        return (path or self.path).share(np.exp(t[:, 0]), np.exp(t[:, 1]), t[:, FIRST_TAG:], self.affinity_sd)

    def long_run_share(self) -> F64:
        """Share each tag's questions the AI takes once everyone considers it (at the horizon's gap)."""
        return logit_normal_mean(self.affinity + self.path.gap[-1], self.affinity_sd)

    def scenario_affinity(self) -> tuple[F64, F64]:
        """Per particle: the ABM's single affinity distribution matching the tags' mixture in mean and variance."""
        mean = self.affinity @ self.weights
        variance = self.affinity_sd**2 + ((self.affinity - mean[:, None]) ** 2) @ self.weights
        return mean, np.sqrt(variance)


def prior(tags: tuple[str, ...]) -> NormalPrior:
    k = len(tags)
    return NormalPrior(
        ("log_adoption_weeks", "log_adoption_shape", "logit_find_elasticity", *(f"affinity[{t}]" for t in tags)),
        np.r_[np.log(ADOPTION_PRIOR_MEDIAN_WEEKS), 0.0, np.log(0.25 / 0.75), np.zeros(k)],
        np.r_[ADOPTION_PRIOR_LOG_SD, SHAPE_PRIOR_LOG_SD, ELASTICITY_PRIOR_LOGIT_SD, np.full(k, AFFINITY_PRIOR_SD)],
    )


def make_discrepancy(
    table: TagTable, baselines: Baselines, path: GapPath, cutoff: int, affinity_sd: float, weights: F64
) -> Callable[[F64, np.random.Generator], F64]:
    """The ABC discrepancy of particles from the observed tag counts, from the release to the cut-off."""
    months = np.arange(first_ai_month(), cutoff + 1)
    observed = np.log(np.maximum(table.counts[:, months - table.first], 0.5))
    columns = months - int(path.months[0])
    sub = GapPath(path.months[columns], path.since[columns], path.valid[columns], path.gap[columns], path.stock)
    scale = baselines.sigma[:, None]

    # The trend at its estimate: a random nuisance draw per simulation would make the distance noisy, and a
    # particle that drew a lucky trend would block every move (the forecast adds the trend's uncertainty).
    expected = baselines.log_expected(months, baselines.level[None], baselines.slope[None])

    def discrepancy(theta: F64, rng: np.random.Generator) -> F64:
        posted = sub.posted(
            np.exp(theta[:, 0]),
            np.exp(theta[:, 1]),
            theta[:, FIRST_TAG:],
            affinity_sd,
            weights,
            _elasticity(theta[:, 2]),
        )
        simulated = expected + np.log(np.maximum(posted, 1e-9))
        error = (simulated - observed[None]) / scale[None]
        return np.asarray(np.sum(error**2, axis=(1, 2)), dtype=np.float64)

    return discrepancy


def fit_posterior(
    scenario: Scenario,
    table: TagTable,
    *,
    cutoff: int,
    horizon: int,
    particles: int = 2_000,
    seeds: tuple[int, ...] = (1, 2, 3),
    on_generation: Callable[[int, Generation], None] | None = None,
) -> Posterior:
    """SMC-ABC for every seed (independent runs, pooled); prior draws when the cut-off is before the release."""
    require_stackoverflow_calendar(scenario)
    table = table.until(cutoff)
    season = seasonal_profile(table)
    end = min(cutoff, first_ai_month() - 1)
    baselines = fit_baselines(table, end, season)
    path = gap_path(scenario, np.arange(first_ai_month(), max(horizon, cutoff) + 1))
    recent = table.counts[:, end - table.first - 5 : end - table.first + 1].sum(axis=1)
    weights = recent / recent.sum()
    # Within a tag, people's affinity spreads as the ABM's default assumes; the scenario's own value may be a
    # fitted mixture (tags pooled), which must not feed back into the next fit.
    sd = float(PeopleSection.model_fields["ai_affinity_sd"].default)
    belief = prior(table.tags)
    runs: list[AbcResult] = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        if cutoff < first_ai_month():  # nothing observed after the release: the prior is the posterior
            draws = belief.sample(particles, rng)
            runs.append(AbcResult(draws, np.zeros(particles), float("inf"), 0, [], "no data after the release"))
            continue
        discrepancy = make_discrepancy(table, baselines, path, cutoff, sd, weights)
        runs.append(
            smc_abc(
                belief,
                discrepancy,
                particles=particles,
                rng=rng,
                target_tolerance=baselines.error_inflation,
                on_generation=None if on_generation is None else _bind(on_generation, seed),
            )
        )
    theta = np.concatenate([run.theta for run in runs])
    return Posterior(scenario, table.tags, cutoff, baselines, path, theta, list(seeds), runs, weights, sd)


def _bind(callback: Callable[[int, Generation], None], seed: int) -> Callable[[Generation], None]:
    return lambda generation: callback(seed, generation)


def quantiles(values: F64, qs: tuple[float, ...] = (0.05, 0.5, 0.95)) -> list[float]:
    return [float(v) for v in np.quantile(values, qs)]


def summary(post: Posterior) -> dict[str, Any]:
    """Posterior summaries: medians and 90% intervals, per seed and pooled, of the parameters and derived shares."""
    months = post.path.months
    share = post.share()
    weights = post.weights
    at = {month_text(int(m)): i for i, m in enumerate(months)}
    mean, spread = post.scenario_affinity()
    long_run = post.long_run_share()
    per_seed = []
    start = 0
    for seed, run in zip(post.seeds, post.runs, strict=True):
        stop = start + run.theta.shape[0]
        per_seed.append(
            {
                "seed": seed,
                "particles": int(run.theta.shape[0]),
                "simulations": run.simulations,
                "final_tolerance": run.tolerance,
                "generations": len(run.generations),
                "stopped": run.stopped,
                "adoption_weeks": quantiles(np.exp(run.theta[:, 0])),
                "long_run_ai_share_all": quantiles(long_run[start:stop] @ weights),
            }
        )
        start = stop
    last_fit = month_text(post.cutoff)
    result: dict[str, Any] = {
        "cutoff": month_text(post.cutoff),
        "prior_only": post.prior_only,
        "simulations": post.simulations,
        "particles": int(post.theta.shape[0]),
        "quantiles": [0.05, 0.5, 0.95],
        "adoption_weeks": quantiles(post.adoption_weeks),
        "adoption_shape": quantiles(post.adoption_shape),
        "find_stock_elasticity": quantiles(post.find_elasticity),
        "scenario_ai_affinity_mean": quantiles(mean),
        "scenario_ai_affinity_sd": quantiles(spread),
        "long_run_ai_share_all": quantiles(long_run @ weights),
        "ai_share_all": {
            label: quantiles(share[:, :, i] @ weights)
            for label, i in at.items()
            if label in (month_text(first_ai_month()), last_fit, "2023-05", "2024-12", month_text(int(months[-1])))
        },
        "tags": {
            tag: {
                "affinity_mean": quantiles(post.affinity[:, k]),
                "long_run_ai_share": quantiles(long_run[:, k]),
                "trend_per_year": float(post.baselines.slope[k] * 12),
                "trend_per_year_sd": float(post.baselines.slope_sd[k] * 12),
                "noise_sd": float(post.baselines.sigma[k]),
            }
            for k, tag in enumerate(post.tags)
        },
        "seeds": per_seed,
        "priors": {
            "adoption_shape": f"log-normal, median 1, log-sd {SHAPE_PRIOR_LOG_SD:g} (assumption)",
            "find_stock_elasticity": f"logit-normal, median 0.25, logit-sd {ELASTICITY_PRIOR_LOGIT_SD:g} (the ABM's "
            "assumed value and range 0-1)",
            "adoption_weeks": f"log-normal, median {ADOPTION_PRIOR_MEDIAN_WEEKS:g} weeks, log-sd "
            f"{ADOPTION_PRIOR_LOG_SD:g} (informed by the Stack Overflow 2023 Developer Survey: 44% used AI tools)",
            "affinity_mean_per_tag": f"normal(0, {AFFINITY_PRIOR_SD:g}) (assumption: wide)",
        },
    }
    return result


def fitted_scenario(post: Posterior) -> Scenario:
    """The calibrated scenario the ABM runs: posterior medians of adoption and of the mixture-matched affinity."""
    from datalever.documents import validate_mapping

    mean, spread = post.scenario_affinity()
    data = post.scenario.model_dump()
    data["name"] = f"{post.scenario.name}-fitted"
    data["description"] = (
        f"{post.scenario.description} Posterior medians from SMC-ABC on 14 Stack Overflow tags to "
        f"{month_text(post.cutoff)}."
    ).strip()
    data["choice"]["ai_affinity_mean"] = round(float(np.median(mean)), 4)
    data["choice"]["adoption_weeks"] = round(float(np.median(post.adoption_weeks)), 2)
    data["choice"]["adoption_shape"] = round(float(np.median(post.adoption_shape)), 3)
    data["platform"]["find_stock_elasticity"] = round(float(np.median(post.find_elasticity)), 4)
    data["people"]["ai_affinity_sd"] = round(float(np.median(spread)), 4)
    # The ABM has one platform: its pre-existing trend is the all-tag total's over the calibration window.
    data["platform"]["trend_per_year"] = round(float(np.expm1(12 * post.baselines.total_slope)), 4)
    return validate_mapping(data, Scenario, "calibration")


def write_scenario(post: Posterior, path: Path) -> Path:
    """A scenario TOML that `datalever simulate --scenario PATH` reads, with the intervals as comments."""
    import tomli_w

    fitted = fitted_scenario(post)
    facts = summary(post)
    lines = [
        "# Fitted by `datalever calibrate`: SMC-ABC on 14 Stack Overflow tag",
        f"# series to {facts['cutoff']} ({facts['simulations']:,} simulations, seeds {post.seeds}).",
        "# Posterior medians below; 90% intervals (5%, 50%, 95%):",
        f"#   choice.adoption_weeks      {_fmt(facts['adoption_weeks'])}",
        f"#   choice.adoption_shape      {_fmt(facts['adoption_shape'])}",
        f"#   platform.find_stock_elasticity {_fmt(facts['find_stock_elasticity'])}  <- narrowed by the fit",
        f"#   choice.ai_affinity_mean    {_fmt(facts['scenario_ai_affinity_mean'])}",
        f"#   people.ai_affinity_sd      {_fmt(facts['scenario_ai_affinity_sd'])}",
        f"#   platform.trend_per_year    {np.expm1(12 * post.baselines.total_slope):.4f} (all-tag total, "
        f"{month_text(post.baselines.end - 23)} to {month_text(post.baselines.end)})",
        f"#   long-run AI share (all)    {_fmt(facts['long_run_ai_share_all'])}  <- given the Weibull adoption form",
        "# The per-tag posterior is in posterior.json beside this file.",
        "",
    ]
    document = fitted.model_dump(mode="json")
    document["run"]["start"] = fitted.run.start
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + tomli_w.dumps(document), encoding="utf-8")
    return path


def _fmt(values: list[float]) -> str:
    return "(" + ", ".join(f"{v:.3g}" for v in values) + ")"
