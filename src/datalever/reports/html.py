"""Self-contained HTML reports: one file with every image embedded, readable offline and easy to share."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape


@dataclass
class Table:
    """A small table: header row plus rows of already formatted cells."""

    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    caption: str = ""


@dataclass
class Section:
    heading: str
    paragraphs: Sequence[str] = ()
    images: Sequence[Path] = ()
    tables: Sequence[Table] = ()


@dataclass
class Report:
    """A report: a title, a short plain-language headline (the answer first), then sections."""

    title: str
    headline: str
    verdict: str = "neutral"  # "good", "bad" or "neutral": colours the headline box
    subtitle: str = ""
    sections: Sequence[Section] = ()
    footer: str = ""
    meta: dict[str, str] = field(default_factory=dict)


def image_data_uri(path: Path) -> str:
    """A PNG as a data: URI, so the report needs no files beside it."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def render_report(report: Report) -> str:
    env = Environment(
        loader=PackageLoader("datalever.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    env.filters["data_uri"] = image_data_uri
    return env.get_template("report.html.j2").render(report=report)


def write_report(report: Report, path: str | Path) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_report(report), encoding="utf-8")
    return target
