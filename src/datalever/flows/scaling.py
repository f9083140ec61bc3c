"""Scaling-law maths for withholding what-ifs: pure functions on scalars or NumPy arrays.

* Chinchilla parametric fit (Hoffmann et al. 2022, Section 3.3 / Appendix D.2):
  L(N, D) = E + A / N^alpha + B / D^beta with E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28.
* The Besiroglu et al. 2024 refit of the same data ("Chinchilla Scaling: A replication attempt",
  arXiv:2404.10102): E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658.
* Repeated data (Muennighoff et al. 2023, "Scaling Data-Constrained Language Models", arXiv:2305.16264):
  effective data D' = U + U * R*_D * (1 - exp(-R_D / R*_D)), with U unique tokens, R_D = epochs - 1
  repetitions and R*_D = 15.387756 (the fitted constant published in the paper's repository,
  github.com/huggingface/datablations, "Parametric Fit").

The loss is the model's *average* loss over its whole training distribution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Num = float | NDArray[np.float64]
"""A scalar or an array of them: every rule here is vectorised, like the economy rules."""


def _as_num(value: Any) -> Num:
    array = np.asarray(value, dtype=np.float64)
    return float(array) if array.ndim == 0 else array


R_STAR_D = 15.387756
"""Muennighoff et al. 2023: repetitions after which repeated data has lost 1 - 1/e of its value."""


@dataclass(frozen=True)
class LossFit:
    """One fitted L(N, D) = E + A / N^alpha + B / D^beta, with where it comes from."""

    name: str
    E: float
    A: float
    B: float
    alpha: float
    beta: float
    citation: str


CHINCHILLA_2022 = LossFit(
    name="Chinchilla (Hoffmann et al. 2022)",
    E=1.69,
    A=406.4,
    B=410.7,
    alpha=0.34,
    beta=0.28,
    citation="Hoffmann et al. 2022, Training Compute-Optimal Large Language Models, arXiv:2203.15556, "
    "Section 3.3 (Approach 3)",
)
BESIROGLU_2024 = LossFit(
    name="Besiroglu et al. 2024 refit",
    E=1.8172,
    A=482.01,
    B=2085.43,
    alpha=0.3478,
    beta=0.3658,
    citation="Besiroglu, Erdil, Barnett, You 2024, Chinchilla Scaling: A replication attempt, arXiv:2404.10102",
)
FITS: tuple[LossFit, ...] = (CHINCHILLA_2022, BESIROGLU_2024)


def _positive(name: str, value: object) -> None:
    if np.any(np.asarray(value, dtype=float) <= 0):
        raise ValueError(f"{name} must be positive")


def loss(fit: LossFit, parameters: Num, tokens: Num) -> Num:
    """L(N, D) under `fit`; `tokens` should be effective tokens when data was repeated."""
    _positive("parameters", parameters)
    _positive("tokens", tokens)
    return _as_num(fit.E + fit.A / np.power(parameters, fit.alpha) + fit.B / np.power(tokens, fit.beta))


def data_term(fit: LossFit, tokens: Num) -> Num:
    """B / D^beta: the only part of the loss that withholding data changes (N fixed)."""
    _positive("tokens", tokens)
    return _as_num(fit.B / np.power(tokens, fit.beta))


def loss_change(fit: LossFit, tokens_before: Num, tokens_after: Num) -> Num:
    """L(N, D_after) - L(N, D_before); independent of N and E because the fit is additive."""
    return _as_num(np.asarray(data_term(fit, tokens_after)) - np.asarray(data_term(fit, tokens_before)))


def effective_tokens(seen: Num, epochs: Num, r_star: float = R_STAR_D) -> Num:
    """Muennighoff's D' for `seen` training tokens drawn over `epochs` passes of the unique data.

    With epochs <= 1 every seen token is unique (D' = seen). Otherwise U = seen / epochs unique tokens
    were repeated R = epochs - 1 times and D' = U + U * R* * (1 - exp(-R / R*)).
    """
    seen_arr = np.asarray(seen, dtype=float)
    epochs_arr = np.asarray(epochs, dtype=float)
    if np.any(seen_arr < 0):
        raise ValueError("seen tokens must be non-negative")
    _positive("epochs", epochs_arr)
    repeated = np.maximum(epochs_arr - 1.0, 0.0)
    unique = seen_arr / np.maximum(epochs_arr, 1.0)
    result = unique + unique * r_star * (1.0 - np.exp(-repeated / r_star))
    return _as_num(result)


def value_per_token(epochs: Num, r_star: float = R_STAR_D) -> Num:
    """Effective tokens per seen token at `epochs` passes (1 for a single pass, less when repeated)."""
    return effective_tokens(_as_num(np.ones_like(np.asarray(epochs, dtype=float))), epochs, r_star)


def equivalent_fewer_tokens(tokens_before: Num, tokens_after: Num) -> Num:
    """The fraction X such that the change equals training on X fewer (fresh) tokens: 1 - D'_after / D'_before."""
    _positive("tokens_before", tokens_before)
    return _as_num(1.0 - np.asarray(tokens_after, dtype=float) / np.asarray(tokens_before, dtype=float))
