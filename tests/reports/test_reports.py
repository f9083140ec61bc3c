"""The shared report helpers: PNG plots and self-contained, escaped HTML."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from datalever.reports import Panel, Report, Section, Table, change_bars, render_report, small_multiples, write_report

PNG = b"\x89PNG\r\n\x1a\n"


def test_plots_are_png_files(tmp_path: Path) -> None:
    x = np.arange(10)
    grid = small_multiples(
        tmp_path / "grid.png", "t", x, [Panel("a", {"one": x, "two": x * 2}), Panel("b", {"one": x + 1}, log=True)]
    )
    bars = change_bars(tmp_path / "bars.png", "t", {"gain": 12.0, "loss": -3.0, "huge": 900.0}, clip=50.0)
    for path in (grid, bars):
        assert path.read_bytes().startswith(PNG)


def test_same_data_same_png_bytes(tmp_path: Path) -> None:
    x = np.arange(5)
    a = small_multiples(tmp_path / "a.png", "t", x, [Panel("a", {"one": x})])
    b = small_multiples(tmp_path / "b.png", "t", x, [Panel("a", {"one": x})])
    assert a.read_bytes() == b.read_bytes()


def test_report_embeds_images_and_escapes_text(tmp_path: Path) -> None:
    image = small_multiples(tmp_path / "p.png", "t", np.arange(3), [Panel("a", {"x": np.arange(3)})])
    report = Report(
        title="Title <b>",
        headline="Answer: <script>alert(1)</script>",
        verdict="good",
        sections=[Section("Plots", ["para & more"], [image], [Table(["k", "v"], [["a", "1"]])])],
        meta={"seed": "1"},
    )
    html = render_report(report)
    assert "data:image/png;base64," in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "para &amp; more" in html and "<td>a</td>" in html
    assert 'class="headline good"' in html
    path = write_report(report, tmp_path / "nested" / "report.html")
    assert path.read_text(encoding="utf-8") == html
