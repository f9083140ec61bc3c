"""Plots to PNG with matplotlib, in one consistent style, for any part's report.

Only the non-interactive Agg backend is used, so reports render on servers without a display.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

PALETTE = ("#1b6ca8", "#d1495b", "#2a9d8f", "#e9a23b", "#6c4f9c", "#7a7a7a")


@dataclass
class Panel:
    """One small chart: named lines over a shared x axis."""

    title: str
    lines: Mapping[str, npt.ArrayLike]
    ylabel: str = ""
    styles: Mapping[str, str] = field(default_factory=dict)  # line name -> matplotlib linestyle
    ylim_zero: bool = True
    log: bool = False  # log y axis, for flows that differ by orders of magnitude


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def small_multiples(
    path: str | Path,
    title: str,
    x: npt.ArrayLike,
    panels: Sequence[Panel],
    *,
    xlabel: str = "",
    columns: int = 2,
    width: float = 11.0,
    panel_height: float = 3.2,
) -> Path:
    """A grid of line charts sharing one x axis, written as a PNG; returns the path."""
    plt = _pyplot()
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(width, panel_height * rows), squeeze=False, sharex=True)
    xs = np.asarray(x)
    for ax, panel in zip(axes.flat, panels, strict=False):
        for i, (name, values) in enumerate(panel.lines.items()):
            ax.plot(
                xs,
                np.asarray(values),
                label=name,
                color=PALETTE[i % len(PALETTE)],
                linestyle=panel.styles.get(name, "-"),
                linewidth=1.8,
            )
        ax.set_title(panel.title, fontsize=11, loc="left")
        ax.set_ylabel(panel.ylabel, fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        if panel.log:
            ax.set_yscale("log")
        elif panel.ylim_zero:
            ax.set_ylim(bottom=0)
        ax.legend(fontsize=8, frameon=False)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(xlabel, fontsize=9)
    fig.suptitle(title, fontsize=13, x=0.01, ha="left")
    fig.tight_layout()
    return _save(fig, path)


def change_bars(
    path: str | Path,
    title: str,
    changes: Mapping[str, float],
    *,
    groups: Mapping[str, str] | None = None,
    xlabel: str = "change vs baseline (%)",
    clip: float | None = None,
    lower_is_better: Collection[str] = (),
) -> Path:
    """Horizontal bars of percentage changes, green when the change is good and red when it is bad.

    A rise is good unless the name is in `lower_is_better` (costs, say). `groups` labels each bar. With
    `clip`, the axis spans at most +-clip percent so one huge change does not flatten the others.
    """
    plt = _pyplot()
    names = list(changes)
    values = np.array([changes[name] for name in names], dtype=float)
    fig, ax = plt.subplots(figsize=(9.0, 0.45 * len(names) + 1.4))
    colors = [
        "#2a9d8f" if (v >= 0) != (name in lower_is_better) or v == 0 else "#d1495b"
        for name, v in zip(names, values, strict=True)
    ]
    labels = [f"{groups[name]}: {name}" if groups else name for name in names]
    y = np.arange(len(names))[::-1]
    ax.set_yticks(y, labels, fontsize=9)
    ax.axvline(0, color="black", linewidth=0.8)
    span = max(float(np.max(np.abs(values))) if values.size else 1.0, 1.0)
    if clip is not None:
        span = min(span, clip)
    shown = np.clip(values, -span, span)  # bars beyond the clip reach the edge; the label gives the value
    ax.barh(y, shown, color=colors)
    for yi, v, drawn in zip(y, values, shown, strict=True):
        ax.text(
            drawn + (0.02 * span if v >= 0 else -0.02 * span),
            yi,
            f"{v:+.1f}%" + (" (off scale)" if drawn != v else ""),
            va="center",
            ha="left" if v >= 0 else "right",
            fontsize=8,
        )
    ax.set_xlim(-1.45 * span, (1.75 if np.any(shown != values) else 1.45) * span)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_title(title, fontsize=12, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def stacked_area(
    path: str | Path,
    title: str,
    x: npt.ArrayLike,
    stacks: Mapping[str, npt.ArrayLike],
    *,
    lines: Mapping[str, npt.ArrayLike] | None = None,
    xlabel: str = "",
    ylabel: str = "",
) -> Path:
    """Stacked areas (e.g. inflows by kind) with optional overlaid lines (e.g. outflows), as a PNG."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(11.0, 4.2))
    xs = np.asarray(x)
    ax.stackplot(xs, *[np.asarray(v) for v in stacks.values()], labels=list(stacks), colors=PALETTE, alpha=0.75)
    for i, (name, values) in enumerate((lines or {}).items()):
        ax.plot(xs, np.asarray(values), label=name, color=PALETTE[(i + len(stacks)) % len(PALETTE)], linewidth=1.8)
    ax.set_title(title, fontsize=12, loc="left")
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, frameon=False, loc="upper left", ncols=2)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig: Any, path: str | Path) -> Path:
    plt = _pyplot()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Fixed metadata keeps the PNG bytes identical for identical data (no timestamps).
    fig.savefig(target, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return target


def grouped_bars(
    path: str | Path,
    title: str,
    categories: Sequence[str],
    groups: Mapping[str, Sequence[float]],
    *,
    errors: Mapping[str, Sequence[float]] | None = None,
    ylabel: str = "",
) -> Path:
    """Vertical bars: one cluster per category, one bar per group (with optional error bars), as a PNG."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(7.0, 1.6 * len(categories) + 3), 4.4))
    width = 0.8 / max(len(groups), 1)
    xs = np.arange(len(categories))
    for i, (name, values) in enumerate(groups.items()):
        err = None if errors is None else np.asarray(errors[name], dtype=float)
        ax.bar(
            xs + (i - (len(groups) - 1) / 2) * width,
            np.asarray(values, dtype=float),
            width,
            yerr=err,
            label=name,
            color=PALETTE[i % len(PALETTE)],
            capsize=3,
        )
    ax.set_xticks(xs, list(categories), fontsize=8, rotation=15, ha="right")
    ax.set_ylabel(ylabel, fontsize=9)
    ax.set_title(title, fontsize=12, loc="left")
    ax.grid(True, axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return _save(fig, path)
