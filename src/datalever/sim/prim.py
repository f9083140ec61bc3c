"""PRIM, the Patient Rule Induction Method (Friedman & Fisher, Statistics and Computing 9:123-143, 1999), as
used for scenario discovery (Bryant & Lempert, Technological Forecasting & Social Change 77:34-49, 2010; the
EMA Workbench's `prim`).

Given sampled inputs X (n x d) and a yes/no outcome y (here: the policy is positive-sum by more than seed
noise), peeling repeatedly removes the `alpha` share of the remaining points at the low or high end of one input,
whichever removal leaves the highest share of y among the points still in the box, until fewer than
`min_support` of all points remain. Each step is a box on the peeling trajectory with its
* coverage: share of all y = 1 points that are inside the box (how much of "where it works" it explains),
* density: share of the points inside the box with y = 1 (how reliably it works there).
The chosen box is the one with the most coverage among those of density >= `threshold` (if none is, the
densest of those that still cover half of the y = 1 points).
Pasting (Friedman & Fisher, section 5) then widens each limit back by alpha while density does not fall, and
restrictions whose quasi-p-value (Bryant & Lempert 2010) is above 0.05 and whose removal costs less than 5
points of density are dropped (`prune`).
Covering finds further boxes on the points outside the earlier ones.

The EMA Workbench (3.0, which pip does not resolve on Python 3.11; 2.5.3 pulls statsmodels, scikit-learn and
seaborn) and the `prim` package (unmaintained plotting dependencies) were passed over for these ~150 lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


@dataclass
class Box:
    """Limits per input (low, high); an input left at its full range is not restricted."""

    low: F64
    high: F64
    coverage: float
    density: float
    support: float  # share of all points inside the box
    trajectory: list[tuple[float, float]] = field(default_factory=list)  # (coverage, density) per peeling step

    def contains(self, x: F64) -> B:
        return np.asarray(np.all((x >= self.low) & (x <= self.high), axis=1), dtype=np.bool_)

    def restricted(self, full_low: F64, full_high: F64) -> list[int]:
        """Inputs whose limits are tighter than their full sampled range."""
        return [j for j in range(self.low.size) if self.low[j] > full_low[j] or self.high[j] < full_high[j]]


def _stats(inside: B, y: B, positives: int) -> tuple[float, float]:
    n = int(inside.sum())
    hits = int((y & inside).sum())
    return (hits / positives if positives else 0.0), (hits / n if n else 0.0)


def peel(x: F64, y: B, *, alpha: float = 0.05, min_support: float = 0.05, threshold: float = 0.8) -> Box:
    """One PRIM box: peel, choose from the trajectory, paste."""
    n, d = x.shape
    positives = int(y.sum())
    low, high = x.min(axis=0).astype(float), x.max(axis=0).astype(float)
    inside = np.ones(n, dtype=bool)
    coverage, density = _stats(inside, y, positives)
    steps: list[tuple[F64, F64, float, float, float]] = [(low.copy(), high.copy(), coverage, density, 1.0)]
    while inside.sum() > min_support * n:
        best: tuple[float, int, str, float] | None = None
        points = x[inside]
        for j in range(d):
            for side in ("low", "high"):
                cut = float(np.quantile(points[:, j], alpha if side == "low" else 1 - alpha))
                keep = inside & ((x[:, j] >= cut) if side == "low" else (x[:, j] <= cut))
                # A cut that removes nothing (ties) or everything is no peel.
                if keep.sum() == inside.sum() or keep.sum() == 0:
                    continue
                _, dens = _stats(keep, y, positives)
                if best is None or dens > best[0]:
                    best = (dens, j, side, cut)
        if best is None:
            break
        _, j, side, cut = best
        if side == "low":
            low[j] = cut
            inside &= x[:, j] >= cut
        else:
            high[j] = cut
            inside &= x[:, j] <= cut
        coverage, density = _stats(inside, y, positives)
        steps.append((low.copy(), high.copy(), coverage, density, float(inside.mean())))
    good = [s for s in steps if s[3] >= threshold]
    # No box dense enough: the densest that still covers half of the y = 1 points (the trajectory's far end
    # is a handful of points and overfits).
    broad = [s for s in steps if s[2] >= 0.5] or steps
    chosen = max(good, key=lambda s: (s[2], s[3])) if good else max(broad, key=lambda s: (s[3], s[2]))
    box = Box(chosen[0].copy(), chosen[1].copy(), chosen[2], chosen[3], chosen[4], [(s[2], s[3]) for s in steps])
    return prune(paste(box, x, y, alpha=alpha), x, y)


def prune(box: Box, x: F64, y: B, *, significance: float = 0.05, max_loss: float = 0.05) -> Box:
    """Drop restrictions that do not matter. For each restricted input, the quasi-p-value of Bryant & Lempert
    (2010): the chance of at least the box's hits among its points if the density were that of the box with the
    restriction lifted (one-sided binomial). While the largest is above `significance` (and lifting costs less
    than `max_loss` density, so small boxes do not lose their point one weak test at a time), lift it.
    Peeling trims a little of every input's ends by chance; a box should name only inputs that decide."""
    from scipy.stats import binom

    positives = int(y.sum())
    full_low, full_high = x.min(axis=0), x.max(axis=0)
    while True:
        inside = box.contains(x)
        n, hits = int(inside.sum()), int((y & inside).sum())
        worst: tuple[float, Box] | None = None
        for j in box.restricted(full_low, full_high):
            low, high = box.low.copy(), box.high.copy()
            low[j], high[j] = full_low[j], full_high[j]
            wider = Box(low, high, 0.0, 0.0, 0.0)
            lifted = wider.contains(x)
            cov, dens = _stats(lifted, y, positives)
            p_value = float(binom.sf(hits - 1, n, dens))
            if p_value > significance and dens >= box.density - max_loss and (worst is None or p_value > worst[0]):
                worst = (p_value, Box(low, high, cov, dens, float(lifted.mean()), box.trajectory))
        if worst is None:
            return box
        box = worst[1]


def paste(box: Box, x: F64, y: B, *, alpha: float = 0.05) -> Box:
    """Widen limits back by alpha of the box's points while the density does not fall (it may rise)."""
    positives = int(y.sum())
    full_low, full_high = x.min(axis=0), x.max(axis=0)
    improved = True
    while improved:
        improved = False
        inside = box.contains(x)
        count = max(int(alpha * inside.sum()), 1)
        for j in range(x.shape[1]):
            for side in ("low", "high"):
                if (side == "low" and box.low[j] <= full_low[j]) or (side == "high" and box.high[j] >= full_high[j]):
                    continue
                others = np.all((x >= box.low) & (x <= box.high) | (np.arange(x.shape[1]) == j), axis=1) & ~inside
                outside_values = np.sort(x[others, j])
                if side == "low":
                    outside_values = outside_values[outside_values < box.low[j]][::-1]
                else:
                    outside_values = outside_values[outside_values > box.high[j]]
                if outside_values.size == 0:
                    continue
                limit = float(outside_values[min(count, outside_values.size) - 1])
                low, high = box.low.copy(), box.high.copy()
                if side == "low":
                    low[j] = limit
                else:
                    high[j] = limit
                trial = Box(low, high, 0.0, 0.0, 0.0)
                cov, dens = _stats(trial.contains(x), y, positives)
                if dens >= box.density and cov > box.coverage:
                    box = Box(low, high, cov, dens, float(trial.contains(x).mean()), box.trajectory)
                    improved = True
    return box


def covering(
    x: F64,
    y: B,
    *,
    max_boxes: int = 3,
    alpha: float = 0.05,
    min_support: float = 0.05,
    threshold: float = 0.8,
) -> list[Box]:
    """Boxes one after another, each on the points not in an earlier box; stops when a box is not dense."""
    boxes: list[Box] = []
    remaining = np.ones(x.shape[0], dtype=bool)
    positives = int(y.sum())
    for _ in range(max_boxes):
        if y[remaining].sum() < max(5, 0.05 * positives):
            break
        local = peel(
            x[remaining],
            y[remaining],
            alpha=alpha,
            min_support=min_support * x.shape[0] / max(int(remaining.sum()), 1),
            threshold=threshold,
        )
        inside = local.contains(x) & remaining
        coverage, density = _stats(inside, y, positives)
        if boxes and density < threshold:
            break
        boxes.append(Box(local.low, local.high, coverage, density, float(inside.mean()), local.trajectory))
        remaining &= ~local.contains(x)
    return boxes
