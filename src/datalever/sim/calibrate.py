"""Calibration on Stack Overflow's monthly questions around ChatGPT's release.

The fitted parameters are the two that govern AI substitution: the mean AI affinity (how attractive the
assistant is once known; it sets the level of the drop) and the mean adoption delay (how fast people start
considering it; it sets the speed). Everything else keeps its documented default.

Observed and simulated series are compared as an index: questions per day in each calendar month divided by
the mean of Jun-Nov 2022 (the six months before the release), so the absolute scale of the simulated
population does not matter. The fit minimises the RMSE of that index with SciPy's Nelder-Mead, using common
random numbers (the same seed for every evaluation) so the objective is not blurred by sampling noise.
"""

from __future__ import annotations

import calendar
import csv
import json
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import numpy as np

from datalever.documents import validate_mapping
from datalever.sim.engine import run_simulations
from datalever.sim.scenario import Scenario

PRE = ("2022-06", "2022-07", "2022-08", "2022-09", "2022-10", "2022-11")
POST = ("2022-12", "2023-01", "2023-02", "2023-03", "2023-04", "2023-05")
MONTHS = PRE + POST
PACKAGED = "stackoverflow_monthly_questions.csv"


class CalibrationDataError(ValueError):
    """The observed data file is missing or does not hold the months the calibration needs."""


def load_observed(path: Path | None) -> dict[str, float]:
    """Monthly question totals from the per-tag CSV (month,tag,questions) or a totals CSV (month,questions).

    With path None, the totals derived from the same data and shipped in the package (CC BY-SA 4.0).
    """
    if path is None:
        with resources.as_file(resources.files("datalever.sim") / "data" / PACKAGED) as packaged:
            return load_observed(packaged)
    if not path.exists():
        raise CalibrationDataError(
            f"{path}: observed data not found; pass --data with the path to questions_by_month_and_tag.csv "
            "(from ../shared/data/stackoverflow-monthly-questions/), or omit --data to use the packaged totals"
        )
    totals: dict[str, float] = defaultdict(float)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not {"month", "questions"} <= set(reader.fieldnames):
                raise CalibrationDataError(f"{path}: expected columns month and questions, got {reader.fieldnames}")
            for line, row in enumerate(reader, start=2):
                try:
                    totals[row["month"]] += float(row["questions"])
                except (TypeError, ValueError):
                    raise CalibrationDataError(f"{path}:{line}: questions is not a number") from None
    except UnicodeDecodeError as error:
        raise CalibrationDataError(f"{path}: not a UTF-8 CSV file ({error})") from None
    missing = [month for month in MONTHS if month not in totals]
    if missing:
        raise CalibrationDataError(f"{path}: months missing from the data: {', '.join(missing)}")
    return dict(totals)


def _days(month: str) -> int:
    year, number = (int(part) for part in month.split("-"))
    return calendar.monthrange(year, number)[1]


def observed_index(totals: dict[str, float]) -> np.ndarray:
    """Questions per day in each month of MONTHS, relative to the Jun-Nov 2022 mean."""
    per_day = np.array([totals[m] / _days(m) for m in MONTHS])
    return np.asarray(per_day / per_day[: len(PRE)].mean(), dtype=np.float64)


def simulated_index(weekly_posted: np.ndarray, start: date) -> np.ndarray:
    """Mean questions posted per day in each month of MONTHS (a week counts in the month of its midpoint)."""
    sums: dict[str, list[float]] = defaultdict(list)
    for week, value in enumerate(weekly_posted):
        midpoint = start + timedelta(days=7 * week + 3)
        sums[f"{midpoint.year:04d}-{midpoint.month:02d}"].append(float(value) / 7.0)
    per_day = np.array([np.mean(sums[m]) if sums[m] else np.nan for m in MONTHS])
    return np.asarray(per_day / np.nanmean(per_day[: len(PRE)]), dtype=np.float64)


def drop(index: np.ndarray) -> float:
    """Change of the Dec-May mean against the Jun-Nov mean (the NOTICE's -28%)."""
    return float(np.mean(index[len(PRE) :]) / np.mean(index[: len(PRE)]) - 1.0)


def with_substitution(scenario: Scenario, affinity: float, adoption_weeks: float) -> Scenario:
    data = scenario.model_dump()
    data["choice"]["ai_affinity_mean"] = affinity
    data["choice"]["adoption_weeks"] = adoption_weeks
    return validate_mapping(data, Scenario, "calibration")


def simulate_index(scenario: Scenario, affinity: float, adoption_weeks: float) -> np.ndarray:
    """The no-policy world (as observed in 2022-23) with the given substitution parameters, as a month index."""
    variant = with_substitution(scenario, affinity, adoption_weeks)
    (result,) = run_simulations(variant, [None], ["baseline"], threads=1)
    # Expected questions posted given the people's choices (asks x chance of not finding an answer): the
    # platform's binomial draw adds noise that would only blur the objective.
    expected_posted = result.series["platform_questions"] * (1.0 - result.series["find_probability"])
    return simulated_index(expected_posted, variant.run.start)


@dataclass
class Fit:
    scenario: str
    parameters: dict[str, float]
    rmse: float
    observed: list[float]
    simulated: list[float]
    observed_drop: float
    simulated_drop: float
    evaluations: int
    months: list[str] = field(default_factory=lambda: list(MONTHS))


BOUNDS = {"ai_affinity_mean": (-8.0, 8.0), "adoption_weeks": (0.5, 200.0)}


def calibrate_scenario(
    scenario: Scenario,
    totals: dict[str, float],
    *,
    start: tuple[float, float] | None = None,
    on_evaluation: Callable[[int, float], None] | None = None,
) -> Fit:
    """Fit ai_affinity_mean and adoption_weeks to the observed month index with Nelder-Mead (SciPy)."""
    from scipy.optimize import minimize

    target = observed_index(totals)
    evaluations = 0

    def unpack(x: np.ndarray) -> tuple[float, float]:
        affinity = float(np.clip(x[0], *BOUNDS["ai_affinity_mean"]))
        weeks = float(np.clip(math.exp(x[1]), *BOUNDS["adoption_weeks"]))
        return affinity, weeks

    def loss(x: np.ndarray) -> float:
        nonlocal evaluations
        evaluations += 1
        simulated = simulate_index(scenario, *unpack(x))
        error = float(np.sqrt(np.mean((simulated - target) ** 2)))
        if on_evaluation is not None:
            on_evaluation(evaluations, error)
        return error

    first = start or (scenario.choice.ai_affinity_mean, scenario.choice.adoption_weeks)
    x0 = np.array([first[0], math.log(first[1])])
    result = minimize(
        loss,
        x0,
        method="Nelder-Mead",
        options={
            "xatol": 0.01,
            "fatol": 1e-5,
            "maxiter": 200,
            "initial_simplex": np.array([x0, x0 + np.array([1.0, 0.0]), x0 + np.array([0.0, 0.7])]),
        },
    )
    affinity, weeks = unpack(result.x)
    simulated = simulate_index(scenario, affinity, weeks)
    return Fit(
        scenario=scenario.name,
        parameters={"ai_affinity_mean": affinity, "adoption_weeks": weeks},
        rmse=float(np.sqrt(np.mean((simulated - target) ** 2))),
        observed=target.tolist(),
        simulated=simulated.tolist(),
        observed_drop=drop(target),
        simulated_drop=drop(simulated),
        evaluations=evaluations,
    )


def write_calibration(fit: Fit, out: Path) -> list[Path]:
    """calibration.json and calibration.png (observed against simulated month index)."""
    from datalever.reports import Panel, small_multiples

    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "calibration.json"
    json_path.write_text(json.dumps(fit.__dict__, indent=2) + "\n", encoding="utf-8")
    png = small_multiples(
        out / "calibration.png",
        f"Stack Overflow questions per day, relative to Jun-Nov 2022 (fit RMSE {fit.rmse:.3f})",
        fit.months,
        [
            Panel(
                f"observed {fit.observed_drop:+.0%} vs simulated {fit.simulated_drop:+.0%} (Dec-May against Jun-Nov)",
                {"observed (Stack Overflow, 14 tags)": fit.observed, "simulated (fitted)": fit.simulated},
                "index (Jun-Nov 2022 = 1)",
                {"simulated (fitted)": "--"},
            )
        ],
        xlabel="month (ChatGPT released 2022-11-30)",
        columns=1,
        width=10.0,
        panel_height=4.5,
    )
    return [json_path, png]
