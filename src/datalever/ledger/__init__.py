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
        Overloaded,
        RateLimited,
        UnknownAccount,
        UnknownMember,
    )
    from datalever.ledger.posting import (
        Idempotency,
        Ledger,
        Leg,
        MemberState,
        Outcome,
        Posting,
        Reply,
        Serializer,
        request_hash,
    )
    from datalever.ledger.values import Result, recorded

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
    "Overloaded",
    "Posting",
    "RateLimited",
    "Reply",
    "Result",
    "Serializer",
    "UnknownAccount",
    "UnknownMember",
    "recorded",
    "request_hash",
]

_POSTING = {"Idempotency", "Ledger", "Leg", "MemberState", "Outcome", "Posting", "Reply", "Serializer", "request_hash"}
_VALUES = {"Result", "recorded"}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    where = "posting" if name in _POSTING else "values" if name in _VALUES else "errors"
    return getattr(importlib.import_module(f"datalever.ledger.{where}"), name)
