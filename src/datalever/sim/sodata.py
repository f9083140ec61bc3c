"""Stack Overflow questions per month and tag, as a dense table the calibration and forecast work on.

The source is the per-tag CSV (month,tag,questions; 14 language tags, 2008-07 to 2023-05; CC BY-SA 4.0), shipped
in the package beside its NOTICE so nothing is downloaded at run time. Months are integers (year * 12 + month -
1) so that month arithmetic is plain subtraction.
"""

from __future__ import annotations

import calendar
import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

PACKAGED_TAGS = "stackoverflow_questions_by_month_and_tag.csv"
CHATGPT_MONTH = "2022-12"  # first calendar month after ChatGPT's release (2022-11-30)


class CalibrationDataError(ValueError):
    """The observed data file is missing or does not hold the months the calibration needs."""


def month_number(text: str) -> int:
    """'2022-12' -> 2022 * 12 + 11."""
    try:
        year, month = (int(part) for part in text.split("-"))
    except ValueError:
        raise CalibrationDataError(f"{text!r}: not a month (expected YYYY-MM)") from None
    if not 1 <= month <= 12 or not 1900 <= year <= 2200:
        raise CalibrationDataError(f"{text!r}: not a month (expected YYYY-MM)")
    return year * 12 + month - 1


def month_text(number: int) -> str:
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def days_in(number: int) -> int:
    return calendar.monthrange(number // 12, number % 12 + 1)[1]


@dataclass(frozen=True)
class TagTable:
    """Questions per month (columns) for each tag (rows); months run without gaps from `first`."""

    tags: tuple[str, ...]
    first: int
    counts: npt.NDArray[np.float64]  # tags x months; a month before a tag's first question is 0

    @property
    def months(self) -> npt.NDArray[np.int64]:
        return np.arange(self.first, self.first + self.counts.shape[1], dtype=np.int64)

    @property
    def last(self) -> int:
        return self.first + int(self.counts.shape[1]) - 1

    def column(self, month: int) -> int:
        if not self.first <= month <= self.last:
            raise CalibrationDataError(f"month {month_text(month)} is outside the data ({self.span})")
        return month - self.first

    @property
    def span(self) -> str:
        return f"{month_text(self.first)} to {month_text(self.last)}"

    def until(self, month: int) -> TagTable:
        """The table cut after `month` (what a forecaster standing at that month would have seen)."""
        return TagTable(self.tags, self.first, self.counts[:, : self.column(month) + 1].copy())

    def totals(self) -> dict[str, float]:
        return {month_text(m): float(v) for m, v in zip(self.months, self.counts.sum(axis=0), strict=True)}


def load_tags(path: Path | None) -> TagTable:
    """The per-tag CSV (month,tag,questions); with path None, the copy shipped in the package."""
    if path is None:
        with resources.as_file(resources.files("datalever.sim") / "data" / PACKAGED_TAGS) as packaged:
            return load_tags(packaged)
    if not path.exists():
        raise CalibrationDataError(
            f"{path}: observed data not found; pass --data with the path to questions_by_month_and_tag.csv, "
            "or omit --data to use the copy shipped in the package"
        )
    rows: dict[tuple[str, int], float] = {}
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not {"month", "tag", "questions"} <= set(reader.fieldnames):
                raise CalibrationDataError(
                    f"{path}: expected columns month, tag and questions (one row per month and tag), "
                    f"got {reader.fieldnames}"
                )
            for line, row in enumerate(reader, start=2):
                try:
                    value = float(row["questions"])
                except (TypeError, ValueError):
                    raise CalibrationDataError(f"{path}:{line}: questions is not a number") from None
                if not np.isfinite(value) or value < 0:
                    raise CalibrationDataError(f"{path}:{line}: questions must be a count >= 0")
                rows[(row["tag"], month_number(row["month"]))] = value
    except UnicodeDecodeError as error:
        raise CalibrationDataError(f"{path}: not a UTF-8 CSV file ({error})") from None
    if not rows:
        raise CalibrationDataError(f"{path}: no rows")
    tags = tuple(sorted({tag for tag, _ in rows}))
    first = min(m for _, m in rows)
    last = max(m for _, m in rows)
    counts = np.zeros((len(tags), last - first + 1))
    for (tag, month), value in rows.items():
        counts[tags.index(tag), month - first] = value
    return TagTable(tags, first, counts)
