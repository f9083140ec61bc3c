"""Scalar rules of the platform and the AI assistant, shared by the vectorized engine and the Mesa benchmark.

These act on whole-population aggregates once a week (the knowledge stock, the training snapshot), so
they are plain float functions; the per-person rules live in the engine.
"""

from __future__ import annotations

import math

from datalever.sim.scenario import AISection, ChoiceSection, PlatformSection


def find_probability(stock: float, agents: int, platform: PlatformSection) -> float:
    """Chance a visitor finds an existing answer: rises with the stock and saturates at find_probability_max."""
    half = platform.find_half_stock_per_agent * agents
    return platform.find_probability_max * stock / (stock + half) if stock > 0 else 0.0


def answered_share(posted: float, answers: float) -> float:
    """Share of newly posted questions that get an answer when each answer lands on a random posted question."""
    if posted <= 0:
        return 0.0
    return 1.0 - math.exp(-answers / posted)


def platform_quality(find: float, answered: float, platform: PlatformSection) -> float:
    """Expected quality of going to the platform: a found answer, else a posted question answered (or not)."""
    return find * platform.quality_found + (1.0 - find) * answered * platform.quality_posted


def ai_quality(snapshot_relative: float, years_since_launch: float, ai: AISection) -> float:
    """Quality as a saturating function of training knowledge (relative to the initial stock), boosted by an
    exogenous improvement path that lets newer models extract more from the same data."""
    effective = snapshot_relative * (1.0 + ai.exogenous_growth_per_year) ** max(years_since_launch, 0.0)
    return float(ai.quality_max * effective / (effective + ai.knowledge_half_saturation))


def utility_gap(ai_q: float, platform_q: float, price_per_query: float, choice: ChoiceSection) -> float:
    """Common part of U(AI) - U(platform); each person adds their own AI affinity on top."""
    return (
        choice.beta_quality * (ai_q - platform_q)
        - choice.beta_price * price_per_query
        - choice.effort_ai
        + choice.effort_platform
        + choice.ai_affinity_mean
    )


def equilibrium_stock(visits: float, answers: float, agents: int, platform: PlatformSection) -> float:
    """Knowledge stock at which weekly additions balance depreciation with everyone on the platform.

    The additions fall as the stock rises (more questions are found, fewer posted), so the balance is unique;
    bisection finds it.
    """
    low, high = 0.0, max(answers, 1.0) / max(platform.depreciation_per_week, 1e-9) + 1.0

    def excess(stock: float) -> float:
        posted = visits * (1.0 - find_probability(stock, agents, platform))
        added = posted * answered_share(posted, answers)
        return stock * platform.depreciation_per_week - added

    for _ in range(200):
        mid = 0.5 * (low + high)
        if excess(mid) > 0:
            high = mid
        else:
            low = mid
    return 0.5 * (low + high)
