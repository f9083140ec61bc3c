"""The people: per-person traits drawn once from the scenario, stored as flat arrays for vectorized steps.

Agents are split into fixed-size blocks, each with its own random stream spawned from the seed, so results
depend on the seed only (never on how many threads step the blocks). Within a block people are ordered by
the week they start considering the AI (drawn in ascending order; all other traits are independent of it),
so "who knows the AI exists" is always a prefix of the arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from datalever.sim.scenario import Scenario

BLOCK_SIZE = 1 << 18
MAX_WEEKLY_QUESTIONS = 2_000

F32 = npt.NDArray[np.float32]
I16 = npt.NDArray[np.int16]
I32 = npt.NDArray[np.int32]
B = npt.NDArray[np.bool_]


@dataclass
class Traits:
    """Fixed traits of one block of people (state that never changes during a run)."""

    size: int
    rate: F32  # expected questions per week (heavy-tailed)
    rate_whole: I16  # integer part of rate: questions certainly asked
    rate_fraction: F32  # fractional part: chance of one more question this week
    rate_fraction16: npt.NDArray[np.uint16]  # the same chance as a threshold for a 16-bit random lane
    affinity: F32  # personal AI affinity deviation (utility units), for the log-sum of consumer surplus
    exp_neg_affinity: F32  # exp(-personal AI affinity deviation), so the logit needs one multiply a week
    exp_affinity: F32  # exp(+affinity), so the log-sum gain is one multiply and one log1p a week
    adoption_week: F32  # weeks after launch until the person considers the AI (ascending within the block)
    linked: B  # linked a platform account to the AI service
    spammer: B  # feedback mostly spam
    contributors: I32  # indices of people who ever contribute (about 10%: the 9 and the 1 of 90-9-1)
    contribution_rate: F32  # contributions per platform visit, for each contributor
    superuser: B  # for each contributor: one of the 1%


def block_sizes(agents: int) -> list[int]:
    full, rest = divmod(agents, BLOCK_SIZE)
    return [BLOCK_SIZE] * full + ([rest] if rest else [])


def draw_traits(size: int, scenario: Scenario, rng: np.random.Generator) -> Traits:
    """Draw one block's traits: log-normal question rates, 90-9-1 contribution classes, AI affinity."""
    people = scenario.people
    sigma = people.question_rate_sigma
    # Log-normal with the requested mean: mu = log(mean) - sigma^2 / 2.
    drawn = rng.lognormal(np.log(people.question_rate_mean) - sigma**2 / 2, sigma, size)
    rate: F32 = np.minimum(drawn, MAX_WEEKLY_QUESTIONS - 1).astype(np.float32)
    affinity = rng.normal(0.0, scenario.people.ai_affinity_sd, size).astype(np.float32)
    # Adoption delays are exponential and independent of every other trait, so they can be drawn already
    # sorted (Renyi's representation of exponential order statistics) instead of sorting the people.
    spacings = rng.standard_exponential(size) / np.arange(size, 0, -1)
    # A Weibull delay is a monotone transform of an exponential one, so the order (and the sorting) is kept.
    exponential = np.cumsum(spacings)
    shape = scenario.choice.adoption_shape
    adoption = (
        (exponential if shape == 1.0 else exponential ** (1.0 / shape)) * scenario.choice.adoption_weeks
    ).astype(np.float32)
    role = rng.random(size)
    superuser = role < people.superuser_share
    occasional = (role >= people.superuser_share) & (role < people.superuser_share + people.occasional_share)
    contributor = superuser | occasional
    link_draw = rng.random(size)
    linked = np.where(contributor, link_draw < people.linked_share_contributors, link_draw < people.linked_share_others)
    spammer = rng.random(size) < people.spammer_share

    whole = np.floor(rate)
    contributors = np.flatnonzero(contributor).astype(np.int32)
    cont_rate = np.where(
        superuser[contributors], people.superuser_contribution_rate, people.occasional_contribution_rate
    ).astype(np.float32)
    return Traits(
        size=size,
        rate=rate,
        rate_whole=whole.astype(np.int16),
        rate_fraction=(rate - whole).astype(np.float32),
        rate_fraction16=np.round((rate - whole) * 65536).clip(0, 65535).astype(np.uint16),
        affinity=affinity,
        exp_neg_affinity=np.exp(-affinity).astype(np.float32),
        exp_affinity=np.exp(affinity).astype(np.float32),
        adoption_week=adoption,
        linked=linked,
        spammer=spammer,
        contributors=contributors,
        contribution_rate=cont_rate,
        superuser=superuser[contributors],
    )
