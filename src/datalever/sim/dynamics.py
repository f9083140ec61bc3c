"""Scalar rules of the platform and the AI assistant, shared by the vectorized engine and the Mesa benchmark.

These act on whole-population aggregates once a week (the knowledge stock, the training snapshot, the
week's posted questions), so they are plain float functions; the per-person rules live in the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from datalever.sim.scenario import AISection, ChoiceSection, PlatformSection


def not_found_share(stock_relative: float, platform: PlatformSection) -> float:
    """Share of searches that find no existing answer: the chance of finding one is the steady-state chance
    times (stock / initial stock) ^ elasticity, so a thinner stock of current answers is found less often."""
    if stock_relative <= 0:
        return 1.0
    found = (1.0 - platform.not_found_share) * float(stock_relative**platform.find_stock_elasticity)
    return 1.0 - min(found, 1.0)


def duplicate_share(ai_share: float, platform: PlatformSection, ai: AISection) -> float:
    """Share of posted questions that are duplicates; the AI takes duplicate-type questions preferentially."""
    return platform.duplicate_share * float(max(1.0 - ai_share, 0.0) ** ai.duplicate_absorption)


def answered_share(novel_posted: float, effective_answers: float) -> float:
    """Share of new questions that get an answer when each answer lands on a random new question."""
    if novel_posted <= 0:
        return 0.0
    return 1.0 - math.exp(-max(effective_answers, 0.0) / novel_posted)


def effective_answers(answers: float, duplicates: float, platform: PlatformSection) -> float:
    """Answers left for new questions once answerers have flagged and closed the duplicates."""
    return max(answers - platform.duplicate_handling_answers * duplicates, 0.0)


def time_to_answer(answers_per_question: float, steady_answers_per_question: float, platform: PlatformSection) -> float:
    """Median hours to a first answer: answers arrive as a process whose rate is answers per new question."""
    if answers_per_question <= 0:
        return math.inf
    return platform.time_to_answer_hours * steady_answers_per_question / answers_per_question


def wait_value(hours: float, platform: PlatformSection) -> float:
    """Value kept by an answer that arrives after `hours`, relative to one at the steady-state wait."""
    return min(1.0, math.exp(-(hours - platform.time_to_answer_hours) / platform.answer_patience_hours))


def platform_quality(
    not_found: float, duplicates: float, answered: float, wait: float, platform: PlatformSection
) -> float:
    """Expected quality of taking a question to the platform: an answer found by search; a duplicate closed
    with a link to one; or a new question answered (or not), discounted for the wait."""
    found = (1.0 - not_found) + not_found * duplicates
    return found * platform.quality_found + not_found * (1.0 - duplicates) * answered * platform.quality_posted * wait


def ai_quality(snapshot_relative: float, capability: float, ai: AISection) -> float:
    """Quality as a saturating function of training knowledge (relative to the initial stock) times the
    model's capability multiplier (newer models extract more from the same data)."""
    effective = max(snapshot_relative, 0.0) * capability
    return float(ai.quality_max * effective / (effective + ai.knowledge_half_saturation))


def capability_path(weeks: int, launch_week: int, ai: AISection, seed: int) -> npt.NDArray[np.float64]:
    """The capability multiplier of the model in use each week: it changes at each retraining, by the mean
    yearly growth plus a random-walk shock with sd `capability_growth_sd_per_year` per year.

    Drawn from its own stream of the seed, so the baseline and the policy run see the same trajectory.
    """
    rng = np.random.default_rng([seed, 0xCA9AB1])
    path = np.ones(weeks, np.float64)
    log_capability, last = 0.0, 0.0
    for week in range(max(launch_week, 0), weeks):
        since = week - launch_week
        if since > 0 and since % ai.retrain_every_weeks == 0:
            years = (since - last) / 52.0
            shock = ai.capability_growth_sd_per_year * math.sqrt(years) * float(rng.standard_normal())
            log_capability += math.log1p(ai.exogenous_growth_per_year) * years + shock
            last = since
        path[week] = math.exp(log_capability)
    return path


def utility_gap(ai_q: float, platform_q: float, price_cents: float, choice: ChoiceSection) -> float:
    """Common part of U(AI) - U(platform); each person adds their own AI affinity on top."""
    return (
        choice.beta_quality * (ai_q - platform_q)
        - choice.beta_price * price_cents
        - choice.effort_ai
        + choice.effort_platform
        + choice.ai_affinity_mean
    )


def platform_utility(platform_q: float, choice: ChoiceSection) -> float:
    """U(platform) without the random term: the log-sum's reference level."""
    return choice.beta_quality * platform_q - choice.effort_platform


def per_year(value: float, change_per_year: float, on: date, reference: date) -> float:
    """A dated figure carried to another date by a constant yearly change factor."""
    return value * float(change_per_year ** ((on - reference).days / 365.25))


@dataclass(frozen=True)
class SteadyState:
    """The platform before the AI, with everyone asking there: what later weeks are measured against."""

    stock: float
    novel_posted: float
    answers_per_question: float
    quality: float


def steady_state(visits: float, answers: float, platform: PlatformSection) -> SteadyState:
    """Stock at which weekly additions balance depreciation, at the steady-state not-found share."""
    posted = visits * platform.not_found_share
    duplicates = posted * platform.duplicate_share
    novel = posted - duplicates
    effective = effective_answers(answers, duplicates, platform)
    share = answered_share(novel, effective)
    stock = novel * share / max(platform.depreciation_per_week, 1e-6)
    quality = platform_quality(platform.not_found_share, platform.duplicate_share, share, 1.0, platform)
    return SteadyState(stock, novel, effective / novel if novel > 0 else 0.0, quality)
