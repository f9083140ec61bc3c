"""A reduced model of the ABM's question flow to the platform, per Stack Overflow tag, for calibration.

The ABM sends a person's questions to the AI with probability `logistic(gap(t) + affinity)` once the
person considers the AI (after a Weibull adoption delay: scale `adoption_weeks`, shape `adoption_shape`);
affinity is normal around `ai_affinity_mean` with sd `ai_affinity_sd`, independent of the delay and of how
much the person asks. So the
expected share of questions that go to the AI in week w after launch is, exactly as in the ABM,

    x(w) = A(w) * M(gap(w) + mu),   A(w) = 1 - exp(-((w + 1) / adoption_weeks) ** shape),   M(c) = E[logistic(c + sd Z)]

with Z standard normal (M by Gauss-Hermite quadrature). The reduced model gives each tag k its own affinity mean
mu_k (its exposure to substitution) with one shared adoption curve, and reads the common part of the utility gap
(AI quality against platform quality and effort, without the affinity) from one ABM run of the scenario, so the
mechanism is the simulator's. The platform's posted questions also rise as its stock thins (fewer searches
find an answer): `StockFeedback` carries the ABM's stock equation for the all-tag AI share. What the ABM has
and this does not is the feedback of the stock on the qualities that enter the gap; `benchmarks/sim_science.py`
measures the error against full runs.

Each tag's platform questions without the AI follow its own pre-existing log-linear trend times a seasonal
profile shared by all tags (Stack Overflow's December and summer dips), both estimated on months before the
release.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from datalever.sim.scenario import Scenario
from datalever.sim.sodata import CHATGPT_MONTH, CalibrationDataError, TagTable, days_in, month_number, month_text

F64 = npt.NDArray[np.float64]
TREND_WINDOW_MONTHS = 24  # months before the cut-off on which each tag's trend is fitted
SEASON_YEARS = (2011, 2019)  # seasonal profile from these full years (before the 2020 lockdown surge)
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(24)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def logit_normal_mean(centre: F64, sd: float) -> F64:
    """E[logistic(centre + sd * Z)], Z ~ N(0, 1): the AI share of people who consider the AI."""
    z = np.asarray(centre)[..., None] + sd * _NODES
    return np.asarray(np.sum(_WEIGHTS / (1.0 + np.exp(-z)), axis=-1), dtype=np.float64)


def seasonal_profile(table: TagTable) -> F64:
    """Log multiplicative factor of questions per day for each calendar month (Jan..Dec), mean 0.

    Classical decomposition of the all-tag total: divide by a centred 2x12 moving average, average the log
    ratios by calendar month over SEASON_YEARS.
    """
    per_day = table.counts.sum(axis=0) / np.array([days_in(int(m)) for m in table.months])
    log_y = np.log(np.maximum(per_day, 1.0))
    kernel = np.r_[0.5, np.ones(11), 0.5] / 12.0
    trend = np.convolve(log_y, kernel, mode="same")
    months = table.months
    years = months // 12
    inside = (years >= SEASON_YEARS[0]) & (years <= SEASON_YEARS[1])
    inside[:6] = inside[-6:] = False
    factors = np.array([np.mean((log_y - trend)[inside & (months % 12 == k)]) for k in range(12)])
    if not np.all(np.isfinite(factors)):
        raise CalibrationDataError(f"data ({table.span}) do not cover {SEASON_YEARS[0]}-{SEASON_YEARS[1]}")
    return np.asarray(factors - factors.mean(), dtype=np.float64)


def _slope(log_y: F64) -> tuple[float, float, float, float, float]:
    """OLS of log_y on months (x = 0 at the last month): level, slope, level s.e., residual sd, lag-1 autocorr."""
    n = log_y.size
    x = np.arange(n, dtype=float) - (n - 1)
    design = np.c_[np.ones(n), x]
    coef, *_ = np.linalg.lstsq(design, log_y, rcond=None)
    residual = log_y - design @ coef
    sigma = float(np.sqrt(residual @ residual / (n - 2)))
    cov = sigma**2 * np.linalg.inv(design.T @ design)
    rho = float(residual[1:] @ residual[:-1] / (residual @ residual))
    return float(coef[0]), float(coef[1]), float(np.sqrt(cov[0, 0])), sigma, rho


@dataclass(frozen=True)
class Baselines:
    """Each tag's questions per day without the AI: log-linear trend through `end`, times the season."""

    tags: tuple[str, ...]
    end: int  # last month of the trend window (a month number)
    level: F64  # log questions per day, deseasonalised, at `end`
    level_se: F64
    slope: F64  # log change per month
    slope_sd: F64  # uncertainty of the slope for a forecast: regression s.e. and how much trends drift
    common_sd: float  # the part of the drift shared by all tags (the all-tag total's slope drift)
    sigma: F64  # residual sd of log monthly counts around trend and season (the observation noise)
    season: F64  # log factor by calendar month
    error_inflation: float  # sqrt((1 + rho) / (1 - rho)) for the pooled lag-1 autocorrelation of residuals
    total_slope: float  # log change per month of the all-tag total over the same window (the ABM's one trend)

    def log_expected(self, months: npt.NDArray[np.int64], level: F64, slope: F64) -> F64:
        """log questions in each month (draws x tags x months) for given levels and slopes (draws x tags)."""
        steps = (months - self.end).astype(float)
        days = np.log([days_in(int(m)) for m in months])
        return np.asarray(
            level[..., None] + slope[..., None] * steps + self.season[months % 12] + days, dtype=np.float64
        )

    def draw(self, draws: int, rng: np.random.Generator) -> tuple[F64, F64]:
        """Levels and slopes from their uncertainty, for simulation and forecasts."""
        k = len(self.tags)
        level = self.level + self.level_se * rng.standard_normal((draws, k))
        # Trends of tags move together (a platform-wide part) and apart (a tag's own part).
        common = min(self.common_sd, float(self.slope_sd.min()))
        own = np.sqrt(np.maximum(self.slope_sd**2 - common**2, 0.0))
        slope = self.slope + common * rng.standard_normal((draws, 1)) + own * rng.standard_normal((draws, k))
        return level, slope


def fit_baselines(table: TagTable, end: int, season: F64) -> Baselines:
    """Per-tag trend on the TREND_WINDOW_MONTHS up to `end`; slope drift from how 24-month slopes moved year on year."""
    window = np.arange(end - TREND_WINDOW_MONTHS + 1, end + 1)
    if window[0] < table.first:
        raise CalibrationDataError(f"a trend needs {TREND_WINDOW_MONTHS} months of data before {month_text(end)}")
    days = np.array([days_in(int(m)) for m in table.months])
    log_rate = np.log(np.maximum(table.counts, 0.5) / days) - season[table.months % 12]
    total_counts = table.counts.sum(axis=0)
    total_rate = np.log(np.maximum(total_counts, 0.5) / days) - season[table.months % 12]
    levels, level_se, slopes, slope_sd, sigmas, drifts, rhos = [], [], [], [], [], [], []
    for row, counts in zip([*log_rate, total_rate], [*table.counts, total_counts], strict=True):
        cols = window - table.first
        if np.any(counts[cols] <= 0):
            raise CalibrationDataError(
                f"a tag has months without questions in the trend window ending {month_text(end)}"
            )
        level, slope, se_level, sigma, rho = _slope(row[cols])
        rhos.append(rho)
        n = cols.size
        slope_se = sigma / np.sqrt(np.sum((np.arange(n) - (n - 1) / 2) ** 2))
        # Past 24-month slopes, one a year, ending in the same calendar month: how much a trend moves in a year.
        past = []
        for stop in range(int(cols[-1]) - 12, TREND_WINDOW_MONTHS - 2, -12):
            segment = counts[stop - TREND_WINDOW_MONTHS + 1 : stop + 1]
            if segment.size == TREND_WINDOW_MONTHS and np.all(segment >= 20):
                past.append(_slope(row[stop - TREND_WINDOW_MONTHS + 1 : stop + 1])[1])
        drift = float(np.std(np.diff(past), ddof=1)) if len(past) >= 3 else 0.02
        levels.append(level)
        level_se.append(se_level)
        slopes.append(slope)
        slope_sd.append(float(np.hypot(slope_se, drift)))
        sigmas.append(sigma)
        drifts.append(drift)
    pooled = float(np.mean(rhos[:-1]))
    return Baselines(
        table.tags,
        end,
        np.array(levels[:-1]),
        np.array(level_se[:-1]),
        np.array(slopes[:-1]),
        np.array(slope_sd[:-1]),
        drifts[-1],
        np.array(sigmas[:-1]),
        season,
        float(np.sqrt((1 + max(pooled, 0.0)) / (1 - min(max(pooled, 0.0), 0.9)))),
        slopes[-1],
    )


@dataclass(frozen=True)
class StockFeedback:
    """The ABM's platform stock as one weekly equation, with and without the AI.

    New questions are the not-found share of those brought to the platform (times the pre-existing trend);
    duplicates among them add nothing; the rest are answered (answers come from visitors, who fall with the
    questions); the stock depreciates. With s the stock relative to the pre-AI steady state (1 at the start):
        s <- s (1 - d) + d T(w) (1 - x) n(s) / n(1) u(x),   u(x) = (1 - dup (1 - x)^a) / (1 - dup)
    where n(s) = `dynamics.not_found_share` and T the trend. The platform's posted questions relative to the
    world without the AI are (1 - x) n(s_AI) / n(s_none): a thinner stock finds fewer answers, so more
    questions are posted. Same parameters as the ABM; the error against full runs is in the benchmark.
    """

    depreciation_per_week: float
    not_found_share: float
    elasticity: float
    duplicate_share: float
    absorption: float
    trend_per_year: float
    launch_week: int

    def not_found(self, s: F64, elasticity: F64) -> F64:
        found = (1.0 - self.not_found_share) * np.maximum(s, 1e-9) ** elasticity
        return np.asarray(1.0 - np.minimum(found, 1.0), dtype=np.float64)

    def multiplier(self, weekly_share: F64, elasticity: F64 | None = None) -> F64:
        """n(s_AI) / n(s_none) each week since launch (draws x weeks) for the all-tag AI share each week;
        `elasticity` per draw (the find-stock elasticity) or the scenario's."""
        d = self.depreciation_per_week
        base_dup = 1.0 - self.duplicate_share
        e = np.full(weekly_share.shape[0], self.elasticity) if elasticity is None else np.asarray(elasticity)
        none = np.ones(weekly_share.shape[0])
        for week in range(self.launch_week):  # before the launch both worlds are the same
            trend = (1.0 + self.trend_per_year) ** (week / 52.0)
            none = none * (1.0 - d) + d * trend * self.not_found(none, e) / self.not_found_share
        with_ai = none.copy()
        out = np.empty_like(weekly_share)
        for w in range(weekly_share.shape[1]):
            x = weekly_share[:, w]
            trend = (1.0 + self.trend_per_year) ** ((self.launch_week + w) / 52.0)
            n_ai = self.not_found(with_ai, e)
            n_none = self.not_found(none, e)
            out[:, w] = n_ai / n_none
            novel = (
                (1.0 - x) * n_ai / self.not_found_share * (1.0 - self.duplicate_share * (1.0 - x) ** self.absorption)
            )
            with_ai = with_ai * (1.0 - d) + d * trend * novel / base_dup
            none = none * (1.0 - d) + d * trend * n_none / self.not_found_share
        return out


@dataclass(frozen=True)
class GapPath:
    """For each calendar month: the simulated weeks whose midpoint falls in it, and the mean utility gap."""

    months: npt.NDArray[np.int64]
    since: F64  # months x slots: weeks since launch (NaN before launch or in an unused slot)
    valid: npt.NDArray[np.bool_]  # months x slots: the slot is a week of that month
    gap: F64  # months: common part of U(AI) - U(platform), without the affinity

    def awareness(self, adoption_weeks: F64, shape: F64) -> F64:
        """Mean share of people who consider the AI in each month (draws x months), as in the ABM (Weibull delay)."""
        tau = np.asarray(adoption_weeks, dtype=float)[:, None, None]
        k = np.asarray(shape, dtype=float)[:, None, None]
        scaled = (np.nan_to_num(self.since[None]) + 1.0) / tau
        aware = np.where(np.isnan(self.since[None]), 0.0, 1.0 - np.exp(-(scaled**k)))
        weeks = np.maximum(self.valid.sum(axis=1), 1)
        return np.asarray(aware.sum(axis=2) / weeks, dtype=np.float64)

    stock: StockFeedback | None = None

    def share(self, adoption_weeks: F64, shape: F64, affinity: F64, sd: float) -> F64:
        """AI share of each tag's questions per month (draws x tags x months); affinity is draws x tags."""
        aware = self.awareness(adoption_weeks, shape)
        taken = logit_normal_mean(affinity[..., None] + self.gap[None, None, :], sd)
        return np.asarray(aware[:, None, :] * taken, dtype=np.float64)

    def posted(
        self, adoption_weeks: F64, shape: F64, affinity: F64, sd: float, weights: F64, elasticity: F64 | None = None
    ) -> F64:
        """Questions posted per tag and month relative to the world without the AI (draws x tags x months):
        (1 - AI share) times the platform-wide rise of the not-found share as the stock thins (`StockFeedback`)."""
        taken = logit_normal_mean(affinity[..., None] + self.gap[None, None, :], sd)  # draws x tags x months
        aware = self.awareness(adoption_weeks, shape)
        share = aware[:, None, :] * taken
        if self.stock is None:
            return np.asarray(1.0 - share, dtype=np.float64)
        # Weekly all-tag AI share: this week's awareness times the month's share among the aware.
        rows, cols = np.nonzero(~np.isnan(self.since))
        order = np.argsort(self.since[rows, cols], kind="stable")
        rows, cols = rows[order], cols[order]
        tau = np.asarray(adoption_weeks, dtype=float)[:, None]
        k = np.asarray(shape, dtype=float)[:, None]
        weekly_aware = 1.0 - np.exp(-(((self.since[rows, cols][None, :] + 1.0) / tau) ** k))
        weekly = weekly_aware * np.einsum("dkm,k->dm", taken, weights)[:, rows]
        multiplier = self.stock.multiplier(weekly, elasticity)  # draws x weeks
        monthly = np.zeros_like(aware)
        np.add.at(monthly.T, rows, multiplier.T)
        counts = np.bincount(rows, minlength=self.months.size)
        pre = self.valid.sum(axis=1) - counts  # weeks of the month before the launch: multiplier 1
        monthly = (monthly + pre[None, :]) / np.maximum(self.valid.sum(axis=1), 1)[None, :]
        return np.asarray((1.0 - share) * monthly[:, None, :], dtype=np.float64)


def gap_path(
    scenario: Scenario, months: npt.NDArray[np.int64], *, seed: int | None = None, agents: int = 3_000
) -> GapPath:
    """Read the common utility gap of every week from one ABM baseline run of the scenario (the adapter).

    The choice in week w uses this week's AI quality and last week's platform quality (`dynamics.utility_gap`
    with no price, as in the no-policy world observed in 2022-23); the affinity mean is left out (the fit varies
    it). With `seed` None the capability trajectory is its mean (no random shock): the path the fit uses;
    a seed draws one trajectory, for forecasts. Weeks count from `run.start`; a week belongs to the month of
    its midpoint.
    """
    from datalever.documents import validate_mapping
    from datalever.sim import dynamics
    from datalever.sim.engine import run_simulations

    start = scenario.run.start
    last = int(months.max())
    end = date(last // 12 + (1 if last % 12 == 11 else 0), (last % 12 + 1) % 12 + 1, 1)
    weeks = max((end - start).days // 7 + 1, scenario.run.ai_launch_week + 1)
    data = scenario.model_dump()
    data["run"].update(agents=agents, weeks=weeks, seed=scenario.run.seed if seed is None else seed)
    if seed is None:
        data["ai"]["capability_growth_sd_per_year"] = 0.0
    run = validate_mapping(data, Scenario, "calibration")
    (result,) = run_simulations(run, [None], ["baseline"], threads=1, processes=False)
    choice = scenario.choice
    ai_q = result.series["ai_quality"]
    platform_q = np.r_[result.series["platform_quality"][0], result.series["platform_quality"][:-1]]
    gap = np.array(
        [
            dynamics.utility_gap(a, p, 0.0, choice) - choice.ai_affinity_mean
            for a, p in zip(ai_q, platform_q, strict=True)
        ]
    )
    by_month: dict[int, list[int]] = {}
    for week in range(weeks):
        mid = start + timedelta(days=7 * week + 3)
        by_month.setdefault(mid.year * 12 + mid.month - 1, []).append(week)
    launch = scenario.run.ai_launch_week
    slots = 6
    since = np.full((months.size, slots), np.nan)
    valid = np.zeros((months.size, slots), dtype=bool)
    mean_gap = np.zeros(months.size)
    for i, month in enumerate(months):
        listed = by_month.get(int(month), [])
        for j, week in enumerate(listed):
            valid[i, j] = True
            if week >= launch:
                since[i, j] = week - launch
        after = [w for w in listed if w >= launch]
        mean_gap[i] = float(np.mean(gap[after])) if after else 0.0
    if not valid.any(axis=1).all():
        raise CalibrationDataError(f"scenario {scenario.name!r} does not simulate every month to {month_text(last)}")
    platform, ai = scenario.platform, scenario.ai
    stock = StockFeedback(
        platform.depreciation_per_week,
        platform.not_found_share,
        platform.find_stock_elasticity,
        platform.duplicate_share,
        ai.duplicate_absorption,
        platform.trend_per_year,
        scenario.run.ai_launch_week,
    )
    return GapPath(months, since, valid, mean_gap, stock)


def require_stackoverflow_calendar(scenario: Scenario) -> None:
    """The calibration compares against Stack Overflow around ChatGPT: refuse a scenario that is not that world."""
    run = scenario.run
    launch = run.start + timedelta(weeks=run.ai_launch_week)
    release = date(2022, 11, 30)
    if run.start > date(2022, 6, 6) or abs((launch - release).days) > 7:
        raise CalibrationDataError(
            f"scenario {scenario.name!r} starts {run.start} with the AI launched {launch}; the calibration fits "
            f"Stack Overflow around ChatGPT's release ({release}), so it needs a scenario that starts by 2022-06-06 "
            "and launches the AI within a week of that date, e.g. --scenario stackoverflow-2022"
        )


def first_ai_month() -> int:
    return month_number(CHATGPT_MONTH)
