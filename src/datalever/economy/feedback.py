"""Feedback credits: paid per accepted piece of feedback, at a rate that grows with reputation.

Reputation rises on accepted feedback and falls faster on rejected feedback, so spamming costs more
than it could earn.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import numpy.typing as npt

from datalever.economy._arrays import BoolLike, FloatLike, unwrap_float, unwrap_int
from datalever.economy.policy import FeedbackPolicy


def feedback_reward(reputation: FloatLike, rules: FeedbackPolicy) -> Any:
    """Credits for one accepted piece of feedback: base_reward x multiplier of the highest tier reached."""
    rep = np.asarray(reputation, dtype=np.float64)
    if np.any((rep < 0.0) | (rep > 1.0)):
        raise ValueError("reputation must lie in [0, 1]")
    thresholds = np.array([tier.min_reputation for tier in rules.tiers])
    multipliers = np.array([tier.multiplier for tier in rules.tiers], dtype=np.int64)
    tier_index = np.searchsorted(thresholds, rep, side="right") - 1
    return unwrap_int(rules.base_reward * multipliers[tier_index])


def reputation_after(reputation: FloatLike, accepted: BoolLike, rules: FeedbackPolicy) -> Any:
    """Reputation after a moderation verdict: `gain` of the way to 1 if accepted, `loss` of the way to 0 if not."""
    rep = np.asarray(reputation, dtype=np.float64)
    ok = np.asarray(accepted, dtype=bool)
    raised = rep + rules.reputation_gain * (1.0 - rep)
    lowered = rep * (1.0 - rules.reputation_loss)
    return unwrap_float(np.clip(np.where(ok, raised, lowered), 0.0, 1.0))


def evenly_spread(given: npt.NDArray[np.integer[Any]], accepted: npt.NDArray[np.integer[Any]], j: int) -> Any:
    """Whether each person's verdict number j (from 0) is an accepted one, when `accepted` of `given` verdicts
    are accepted and spread evenly over the submissions: (j + 1) * a // g > j * a // g."""
    return (j + 1) * accepted // given > j * accepted // given


def apply_verdicts(
    reputation: npt.NDArray[np.floating[Any]],
    given: npt.NDArray[np.integer[Any]],
    accepted: npt.NDArray[np.integer[Any]],
    rules: FeedbackPolicy,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Credits earned and reputation after each person's `given` verdicts (`accepted` of them, spread evenly as
    in `evenly_spread`), applied one at a time with `feedback_reward` and `reputation_after`.

    The vectorized form of that sequential loop, for the simulator: exactly the same floating-point operations
    in the same order (so bit-identical reputations), with the tier table, the range check and the temporaries
    set up once instead of once per verdict. People still submitting at verdict j are handled as a prefix
    (sorted by their number of verdicts, most first), so every step works on views.
    """
    rep = np.array(reputation, dtype=np.float64)  # a copy: the caller's array is left alone
    given, accepted = np.asarray(given), np.asarray(accepted)
    if rep.shape != given.shape or rep.shape != accepted.shape or rep.ndim != 1:
        raise ValueError("reputation, given and accepted must be 1-d arrays of the same length")
    if given.dtype.kind not in "iu" or accepted.dtype.kind not in "iu":
        raise ValueError("verdict counts must be integers")
    if np.any((rep < 0.0) | (rep > 1.0)):
        raise ValueError("reputation must lie in [0, 1]")
    if np.any(given < 0) or np.any((accepted < 0) | (accepted > given)):
        raise ValueError("verdict counts must satisfy 0 <= accepted <= given")
    cap = int(given.max()) if rep.size else 0
    if cap == 0:
        return np.zeros(rep.size, np.int64), rep
    table = _Verdicts(rules, rep.size)
    # Everyone's first verdict (accepted when a >= g), in place; then those with more verdicts, sorted (most
    # first) so that those with a verdict number j form a prefix and every step works on views.
    some = bool(np.any(given == 0))
    has = np.flatnonzero(given > 0) if some else slice(None)
    r, a, g = rep[has], accepted[has], given[has]
    counts = np.zeros((len(rules.tiers), r.size), np.int32)  # accepted verdicts at or above each tier's threshold
    table.step(r, np.greater_equal(a, g, out=table.ok[: r.size]), counts)
    more = np.flatnonzero(g > 1)
    if more.size:
        small = np.int8 if cap < 127 else np.int64  # 8-bit keys: NumPy sorts them in linear time
        more = more[np.argsort((cap - g[more]).astype(small), kind="stable")]
        gm, am, rm = g[more].astype(np.int64), a[more].astype(np.int64), r[more]
        counts_more = np.zeros((len(rules.tiers), more.size), np.int32)
        done = am // gm  # accepted verdicts among the first j = 1
        upto = np.empty(more.size, np.int64)
        still = np.bincount(gm, minlength=cap + 1)[::-1].cumsum()[::-1]  # still[j]: people with >= j verdicts
        for j in range(1, cap):
            k = int(still[j + 1])
            up, ok = upto[:k], table.ok[:k]
            np.multiply(am[:k], j + 1, out=up)
            np.floor_divide(up, gm[:k], out=up)
            np.greater(up, done[:k], out=ok)  # evenly_spread(given, accepted, j)
            done[:k] = up
            table.step(rm[:k], ok, counts_more[:, :k])
    e = table.credits(counts)
    if more.size:
        e[more] += table.credits(counts_more)  # integers: the order of the sums does not matter
        r[more] = rm
    if not (np.all(r >= 0.0) and np.all(r <= 1.0)):  # pragma: no cover - both moves stay in [0, 1]
        raise AssertionError("reputation left [0, 1]")
    if not some:
        return e, r
    earned = np.zeros(rep.size, np.int64)
    earned[has] = e
    rep[has] = r
    return earned, rep


class _Verdicts:
    """One verdict for many people at once: the tier table and scratch arrays of `apply_verdicts`.

    Branch-free on purpose: which verdicts are accepted is random, and NumPy's masked loops (`where=`,
    `np.where`, `copyto(where=)`) are ten times slower than plain arithmetic on such masks.
    """

    def __init__(self, rules: FeedbackPolicy, size: int) -> None:
        # The reward of the tier reached is the first tier's, plus the step up to each higher tier whose threshold
        # is reached (thresholds start at 0 and increase, see FeedbackPolicy): integers, as in feedback_reward.
        tiers = rules.tiers
        self.rewards = np.array(
            [rules.base_reward * tiers[0].multiplier]
            + [rules.base_reward * (tier.multiplier - lower.multiplier) for lower, tier in itertools.pairwise(tiers)],
            dtype=np.int64,
        )
        self.thresholds = [tier.min_reputation for tier in tiers[1:]]
        self.gain, self.keep = rules.reputation_gain, 1.0 - rules.reputation_loss
        self.raised = np.empty(size, np.float64)
        self.mask = np.empty(size, np.int64)
        self.ok = np.empty(size, np.bool_)
        self.reached = np.empty(size, np.bool_)

    def credits(self, counts: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
        """Credits earned from the counts of accepted verdicts at or above each tier's threshold."""
        credits: npt.NDArray[np.int64] = counts[0] * self.rewards[0]
        for i in range(1, len(self.rewards)):
            credits += counts[i] * self.rewards[i]
        return credits

    def step(self, rep: npt.NDArray[np.float64], ok: npt.NDArray[np.bool_], counts: npt.NDArray[np.int32]) -> None:
        """One verdict of each person (accepted where `ok`): `counts` and `rep` are updated in place, with the
        same floating-point operations as reputation_after (its clip to [0, 1] never binds: r + g(1 - r) <= 1
        and r(1 - l) >= 0 hold after rounding too for r, g, l in [0, 1]; checked once at the end)."""
        k = rep.size
        raised, mask, reached = self.raised[:k], self.mask[:k], self.reached[:k]
        counts[0] += ok
        for i, threshold in enumerate(self.thresholds, start=1):
            np.greater_equal(rep, threshold, out=reached)
            reached &= ok
            counts[i] += reached
        np.subtract(1.0, rep, out=raised)
        raised *= self.gain
        raised += rep  # r + gain * (1 - r): accepted
        rep *= self.keep  # r * (1 - loss): rejected
        # Pick raised where ok, bit for bit: rep ^= (raised ^ rep) & -ok.
        np.subtract(0, ok, out=mask, dtype=np.int64)
        bits, raised_bits = rep.view(np.int64), raised.view(np.int64)
        raised_bits ^= bits
        raised_bits &= mask
        bits ^= raised_bits
