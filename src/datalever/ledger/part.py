"""The ledger's declaration: its tables and its migrations; no routes or commands (the credits part has those)."""

from pathlib import Path

from datalever.part import Part, tables

PART = Part(name="ledger", metadata=tables("datalever.ledger.models"), migrations=Path(__file__).parent / "migrations")
