"""Feedback credits: paid per accepted piece of feedback, at a rate that grows with reputation.

Reputation rises on accepted feedback and falls faster on rejected feedback, so spamming costs more
than it could earn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

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
