"""Numbers in report tables: a whole number prints as one (0, not 0.000), small fractions keep 3 decimals."""

from __future__ import annotations

import math


def format_number(value: float) -> str:
    """`0` and `12,345` for whole numbers, `0.125` below 10, `1,235` (rounded) above; `nan`/`inf` as such."""
    if not math.isfinite(value):
        return str(value)
    if float(value).is_integer():
        return f"{int(value):,d}"
    return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
