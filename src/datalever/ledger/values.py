"""The values postings are made of: keys, legs, outcomes, batch items, member state, planned writes.

Plain data with no database and no HTTP, shared by the planner, the storage backends and the executor.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datalever.ledger.transaction import Posting

Reply = tuple[int, dict[str, Any]]
"""What an operation answers, as its caller serialized it: a status of the caller's choosing (the service
uses HTTP statuses; the ledger never reads it) and a JSON object. Stored with the operation in the same
transaction as its transfers, and given back unchanged to every retry."""

Work = Callable[["Posting"], Any]
"""An operation's work inside its transaction: it locks, posts and returns its result (a `Reply`, unless
the operation is run with a `reply` serializer that turns the result into one)."""

Serializer = Callable[[Any], Reply]
"""Turns an operation's result into its `Reply`; the service hands in one that gives its HTTP answer."""

NO_STATUS = 0
"""The status stored by `recorded`, for operations run outside HTTP (the CLI, jobs): none was given."""


def request_hash(*parts: Any) -> str:
    """Stable SHA-256 of a request (method, path, body...) so a reused key with another body is caught."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Idempotency:
    """An idempotency key within a scope (e.g. the API key that sent it) and the hash of its request."""

    scope: str
    key: str
    request_hash: str


@dataclass(frozen=True)
class Leg:
    """Move `amount` credits from `debit` to `credit` (account ids).

    `expires_at` and `source` describe the lot created when `credit` is a bounded account (source defaults
    to `kind`). `debit_lot` burns that exact lot instead of following the spend order (expiry, reversals);
    `credit_lot` gives credits back to an existing lot instead of creating one (reversals of a spend).
    """

    debit: int
    credit: int
    amount: int
    kind: str
    expires_at: datetime | None = None
    source: str | None = None
    debit_lot: int | None = None
    credit_lot: int | None = None
    reverses: int | None = None


@dataclass(frozen=True)
class Outcome:
    """The reply of an operation; `replayed` is True when a retry got the stored first reply.

    `result` is what the operation's work returned (its domain result) when it ran now; None on a replay,
    which has only the stored reply.
    """

    operation_id: uuid.UUID
    status_code: int
    body: dict[str, Any]
    replayed: bool
    result: Any = None


@dataclass(frozen=True)
class BatchItem:
    """One operation of `Ledger.execute_batch`; its `work` may only use the Posting's methods."""

    idem: Idempotency
    kind: str
    work: Work
    member_id: int | None = None
    reply: Serializer | None = None


@dataclass(frozen=True)
class MemberState:
    id: int
    account_id: int
    reputation: float
    joined_at: datetime
    session_position: int
    last_query_at: datetime | None
    answers: int


@dataclass(frozen=True)
class Writes:
    """Everything a transaction planned to write, in a fixed order.

    `new_lots` carry a placeholder `lot_id` (transfers name it until the real id is known) and their final
    `remaining`; `lot_deltas` change existing lots; `member_updates` groups rows by the member columns they
    set: ((column, ...), [{"member_key": id, ...}]).
    """

    operations: Sequence[dict[str, Any]]
    lot_deltas: Sequence[tuple[int, int]]
    transfers: Sequence[dict[str, Any]]
    member_updates: Sequence[tuple[tuple[str, ...], Sequence[dict[str, Any]]]]
    new_lots: Sequence[dict[str, Any]] = ()


@dataclass(frozen=True)
class Result:
    """A domain result of a ledger operation; `record()` is its JSON form (fields in order, ids and
    instants as text), the body the service answers with."""

    def record(self) -> dict[str, Any]:
        return {item.name: _jsonable(getattr(self, item.name)) for item in fields(self)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def recorded(result: Result) -> Reply:
    """The default serializer of the ledger's operations: the result's record, with no status."""
    return NO_STATUS, result.record()


def as_reply(result: Any) -> Reply:
    """The reply of work run without a serializer: a `Result` is `recorded`; anything else must already be
    a (status, JSON object) pair, the form other parts' work returns."""
    if isinstance(result, Result):
        return recorded(result)
    if not (
        isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], int) and isinstance(result[1], dict)
    ):
        raise TypeError(f"work run without a `reply` serializer must return a Result or (status, dict), not {result!r}")
    return result
