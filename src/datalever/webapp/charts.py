"""Charts as server-rendered SVG: geometry computed here, drawn by the `_charts.html.j2` macros.

No JavaScript, so charts render for every reader, print, and stay readable by screen readers through
each chart's title and the data table next to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PALETTE = {
    # Colour-blind-safe hues, darkened to at least 3:1 against white (WCAG 1.4.11 non-text contrast).
    "allowance": "#0b5fa5",
    "feedback": "#b35900",
    "stipend": "#00785a",
    "grant": "#a2377e",
    "pool": "#5b4fa8",
    "other": "#5f6368",
    "issued": "#0b5fa5",
    "spent": "#b35900",
    "expired": "#a2377e",
    "liability": "#00785a",
    "queries": "#5b4fa8",
    "compute cost": "#b35900",
    "revenue": "#0b5fa5",
}
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 32, 16, 40


def nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 2.5, 5 x 10^k)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(10 * magnitude)


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    color: str
    label: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class XLabel:
    x: float
    label: str


@dataclass(frozen=True)
class Line:
    name: str
    color: str
    points: str
    dots: list[tuple[float, float, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    ticks: list[Tick]
    xlabels: list[XLabel]
    legend: list[tuple[str, str]]
    rects: list[Rect] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    baseline: float = 0.0

    @property
    def empty(self) -> bool:
        return not self.rects and not self.lines


def _ticks(top: float, fmt: str = "{:,.0f}") -> list[Tick]:
    plot = HEIGHT - TOP - BOTTOM
    values = [top * i / 4 for i in range(5)]
    if fmt == "{:,.0f}" and any(v != int(v) for v in values):
        fmt = "{:,.1f}"  # e.g. 12.5 between 0 and 50
    return [Tick(TOP + plot * (1 - v / top), fmt.format(v)) for v in values]


def _xlabels(labels: list[str], step: float, offset: float) -> list[XLabel]:
    every = max(1, len(labels) // 8)
    return [XLabel(LEFT + offset + i * step, label) for i, label in enumerate(labels) if i % every == 0]


def stacked_bars(title: str, labels: list[str], series: dict[str, list[int]]) -> Chart:
    """One bar per label, stacked by series (e.g. credits issued per month by source). Negative parts are
    drawn as zero: reversals are rare and shown in the table."""
    for values in series.values():
        assert len(values) == len(labels), "every series needs one value per label"
    totals = [sum(max(0, values[i]) for values in series.values()) for i in range(len(labels))]
    top = nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(labels))
    bar = step * 0.7
    rects = []
    for i, label in enumerate(labels):
        y = float(TOP + plot_h)
        for name, values in series.items():
            value = max(0, values[i])
            if value == 0:
                continue
            h = plot_h * value / top
            y -= h
            rects.append(
                Rect(
                    LEFT + i * step + (step - bar) / 2,
                    y,
                    bar,
                    h,
                    PALETTE.get(name, "#333"),
                    f"{label} {name}: {value:,}",
                )
            )
    legend = [(name, PALETTE.get(name, "#333")) for name, values in series.items() if any(values)]
    return Chart(
        title, WIDTH, HEIGHT, _ticks(top), _xlabels(labels, step, step / 2), legend, rects=rects, baseline=TOP + plot_h
    )


def lines(title: str, labels: list[str], series: dict[str, list[float]], fmt: str = "{:,.0f}") -> Chart:
    """One line per series over the labels (e.g. liability per month)."""
    values = [v for vs in series.values() for v in vs]
    top = nice_max(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(labels) - 1) if len(labels) > 1 else plot_w
    drawn = []
    for name, vs in series.items():
        assert len(vs) == len(labels), "every series needs one value per label"
        dots = [
            (LEFT + i * step, TOP + plot_h * (1 - max(0.0, v) / top), f"{labels[i]} {name}: {fmt.format(v)}")
            for i, v in enumerate(vs)
        ]
        drawn.append(Line(name, PALETTE.get(name, "#333"), " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in dots), dots))
    legend = [(name, PALETTE.get(name, "#333")) for name in series]
    return Chart(
        title, WIDTH, HEIGHT, _ticks(top, fmt), _xlabels(labels, step, 0), legend, lines=drawn, baseline=TOP + plot_h
    )
