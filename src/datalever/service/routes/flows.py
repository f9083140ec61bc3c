"""The flows part's routes (coalitions, preferences and exports, reports, what-ifs, alignment): see docs/flows.md."""

from __future__ import annotations

from datalever.flows.api import router

__all__ = ["router"]
