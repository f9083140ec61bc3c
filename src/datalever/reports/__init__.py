"""Shared report building blocks: plots to PNG and self-contained HTML reports (Jinja2), for every part."""

from datalever.reports.html import Report, Section, Table, image_data_uri, render_report, write_report
from datalever.reports.plots import Panel, change_bars, grouped_bars, small_multiples, stacked_area

__all__ = [
    "Panel",
    "Report",
    "Section",
    "Table",
    "change_bars",
    "grouped_bars",
    "image_data_uri",
    "render_report",
    "small_multiples",
    "stacked_area",
    "write_report",
]
