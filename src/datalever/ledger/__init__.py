"""Double-entry credit ledger: immutable balanced transfers between accounts, on SQLAlchemy.

Public API (stable): `Ledger`, `Leg`, `Idempotency`, `Outcome`, `Posting`, `request_hash`, the errors, and
the operations `create_member`, `charge_query`, `run_allowance`, `grant_credits`. See docs/ledger.md.
"""

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
