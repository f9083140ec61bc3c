"""Chart geometry: bars stack to their totals inside the plot, lines pass through their values."""

from __future__ import annotations

import pytest

from datalever.webapp.charts import HEIGHT, TOP, nice_max, stacked_bars
from datalever.webapp.charts import lines as line_chart


@pytest.mark.parametrize(("value", "expected"), [(0, 1.0), (7, 10.0), (120, 200.0), (250, 250.0), (401, 500.0)])
def test_nice_max(value: float, expected: float) -> None:
    assert nice_max(value) == expected


def test_stacked_bars_stack_to_the_total() -> None:
    chart = stacked_bars("t", ["2026-01", "2026-02"], {"allowance": [300, 100], "grant": [100, 0]})
    assert not chart.empty and len(chart.rects) == 3  # a zero part draws nothing
    first = [r for r in chart.rects if r.label.startswith("2026-01")]
    top = min(r.y for r in first)
    assert top == pytest.approx(chart.baseline - (chart.baseline - TOP) * 400 / 500)
    assert sum(r.height for r in first) == pytest.approx(chart.baseline - top)
    assert all(TOP <= r.y <= HEIGHT for r in chart.rects)


def test_empty_series_make_an_empty_chart_and_lines_hit_their_points() -> None:
    assert stacked_bars("t", ["2026-01"], {"allowance": [0]}).empty
    chart = line_chart("t", ["a", "b"], {"queries": [0.0, 50.0]})
    (line,) = chart.lines
    assert line.dots[0][1] == pytest.approx(chart.baseline) and line.dots[1][1] == pytest.approx(TOP)
    with pytest.raises(AssertionError):
        line_chart("t", ["a"], {"queries": [1.0, 2.0]})
