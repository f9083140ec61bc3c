"""Double-entry credit ledger: immutable balanced transfers between accounts, on SQLAlchemy.

Public API (stable): `Ledger`, `Leg`, `Idempotency`, `Outcome`, `Posting`, `request_hash`, the errors, and
the operations `create_member`, `charge_query`, `run_allowance`, `grant_credits`. See docs/ledger.md.

The names load on first use (PEP 562), so importing a submodule such as `datalever.ledger.part` (which
the registry does at start-up) does not pull in posting, SQLAlchemy and the policy rules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datalever.ledger.errors import (
        BadRequest,
        Conflict,
        IdempotencyConflict,
        InsufficientCredits,
        InvalidTransfer,
        LedgerError,
        NotFound,
        RateLimited,
        UnknownAccount,
        UnknownMember,
    )
    from datalever.ledger.posting import Idempotency, Ledger, Leg, MemberState, Outcome, Posting, request_hash

__all__ = [
    "BadRequest",
    "Conflict",
    "Idempotency",
    "IdempotencyConflict",
    "InsufficientCredits",
    "InvalidTransfer",
    "Ledger",
    "LedgerError",
    "Leg",
    "MemberState",
    "NotFound",
    "Outcome",
    "Posting",
    "RateLimited",
    "UnknownAccount",
    "UnknownMember",
    "request_hash",
]

_POSTING = {"Idempotency", "Ledger", "Leg", "MemberState", "Outcome", "Posting", "request_hash"}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module("datalever.ledger.posting" if name in _POSTING else "datalever.ledger.errors")
    return getattr(module, name)
