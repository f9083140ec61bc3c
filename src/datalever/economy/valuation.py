"""Collective data valuation: what each community's data is worth to one model, three ways.

Pure functions over numbers taken from the flows catalog (the caller passes them in):

* **token share**: a community's share of the model's training tokens;
* **leave-one-out**: the rise of the model's loss if that community alone withheld its data;
* **Shapley**: the Shapley value of the cooperative game whose worth of a set S of communities is the loss
  reduction their data gives together (Ghorbani & Zou 2019, Data Shapley).

The game: the model sees D effective tokens, of which community i supplies d_i. Without any community the
data term of the loss is B / D0^beta with D0 = D - sum(d); a set S brings it down to B / (D0 + d_S)^beta,
so v(S) = B / D0^beta - B / (D0 + d_S)^beta (the data term of L(N, D) = E + A/N^alpha + B/D^beta; N is
fixed, so E and A/N^alpha cancel). v is monotone and its marginals shrink as S grows (B/D^beta is convex).
Exact Shapley enumerates all 2^n coalitions (n <= 15 by default); beyond, permutation sampling (Castro et
al. 2009) with a Hoeffding bound: each marginal of i lies in [0, v({i})], so with m permutations
|estimate - value| <= v({i}) * sqrt(ln(2/delta) / (2m)) with probability >= 1 - delta, for each i.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from datalever.economy.pools import RangePoint

FloatArray = NDArray[np.float64]


def pick(low: ArrayLike, high: ArrayLike, point: RangePoint) -> FloatArray:
    """The point of [low, high] the policy names (low, midpoint or high)."""
    lo = np.asarray(low, dtype=np.float64)
    hi = np.asarray(high, dtype=np.float64)
    if np.any(hi < lo):
        raise ValueError("an interval's high end is below its low end")
    if point is RangePoint.LOW:
        return lo
    if point is RangePoint.HIGH:
        return hi
    return (lo + hi) / 2.0


def token_share(shares: ArrayLike) -> FloatArray:
    """Value = the community's share of the model's training tokens (validated, as floats)."""
    values = np.asarray(shares, dtype=np.float64)
    if np.any(values < 0) or np.any(values > 1) or values.sum() > 1 + 1e-9:
        raise ValueError("token shares must lie in [0, 1] and sum to at most 1")
    return values


def _baseline(tokens: FloatArray, total_tokens: float) -> float:
    if np.any(tokens < 0):
        raise ValueError("community tokens must be >= 0")
    base = total_tokens - float(tokens.sum())
    if not base > 0:
        raise ValueError("the communities supply all of the model's data; the loss game needs some data left")
    return base


def worth(subset_tokens: ArrayLike, base_tokens: float, b: float, beta: float) -> FloatArray:
    """v(S) = B / D0^beta - B / (D0 + d_S)^beta for each given d_S (loss reduction, >= 0)."""
    d = np.asarray(subset_tokens, dtype=np.float64)
    return np.asarray(b / base_tokens**beta - b / (base_tokens + d) ** beta, dtype=np.float64)


def leave_one_out(tokens: ArrayLike, total_tokens: float, b: float, beta: float) -> FloatArray:
    """Loss increase if each community alone withholds its data: v(N) - v(N minus i)."""
    d = np.asarray(tokens, dtype=np.float64)
    base = _baseline(d, total_tokens)
    grand = float(worth(d.sum(), base, b, beta))
    return np.asarray(grand - worth(d.sum() - d, base, b, beta), dtype=np.float64)


def shapley_exact(tokens: ArrayLike, total_tokens: float, b: float, beta: float) -> FloatArray:
    """Exact Shapley values by enumerating every coalition (2^n worths; n <= 20)."""
    d = np.asarray(tokens, dtype=np.float64)
    n = d.size
    if n > 20:
        raise ValueError("exact Shapley over more than 20 communities is too large; sample it")
    base = _baseline(d, total_tokens)
    masks = np.arange(1 << n, dtype=np.int64)
    bits = ((masks[:, None] >> np.arange(n)) & 1).astype(bool)
    values = worth(bits @ d, base, b, beta)
    sizes = bits.sum(axis=1)
    weights = np.array(
        [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) if s < n else 0.0 for s in range(n + 1)]
    )
    phi = np.zeros(n)
    for i in range(n):
        without = ~bits[:, i]
        phi[i] = float(np.sum(weights[sizes[without]] * (values[masks[without] | (1 << i)] - values[without])))
    return phi


@dataclass(frozen=True)
class SampledShapley:
    values: FloatArray
    error_bound: FloatArray
    confidence: float
    permutations: int


def shapley_sampled(
    tokens: ArrayLike, total_tokens: float, b: float, beta: float, permutations: int, confidence: float, seed: int
) -> SampledShapley:
    """Permutation-sampled Shapley values with a per-community Hoeffding error bound at `confidence`."""
    d = np.asarray(tokens, dtype=np.float64)
    if permutations < 1 or not 0 < confidence < 1:
        raise ValueError("permutations >= 1 and 0 < confidence < 1")
    base = _baseline(d, total_tokens)
    rng = np.random.default_rng(seed)
    n = d.size
    orders = np.argsort(rng.random((permutations, n)), axis=1)
    before = np.cumsum(d[orders], axis=1) - d[orders]
    marginal = worth(before + d[orders], base, b, beta) - worth(before, base, b, beta)
    totals = np.zeros(n)
    np.add.at(totals, orders.ravel(), marginal.ravel())
    values = totals / permutations
    ranges = worth(d, base, b, beta)
    delta = 1.0 - confidence
    bound = ranges * math.sqrt(math.log(2.0 / delta) / (2.0 * permutations))
    return SampledShapley(values, np.asarray(bound, dtype=np.float64), confidence, permutations)
