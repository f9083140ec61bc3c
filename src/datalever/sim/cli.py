"""Commands of this part, mounted on the top-level `datalever` app by datalever.cli.

Import heavy modules inside the command functions so `datalever --help` stays fast.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this part's commands to the top-level app."""
