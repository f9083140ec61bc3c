"""What can go wrong when posting: exceptions with a stable `code` and no notion of HTTP.

Every one of these is raised before the posting transaction commits, so the ledger is left unchanged.
The web layer maps each code to a status (a subclass without a mapping of its own inherits its base's).
"""

from __future__ import annotations

import re
from typing import ClassVar


class LedgerError(Exception):
    """Base class. `code` is stable (clients match on it): by default the class name in snake case, so a
    part's own subclass `PoolClosed(Conflict)` has code `pool_closed` and is answered like a Conflict."""

    code: ClassVar[str] = "ledger_error"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class InvalidTransfer(LedgerError):
    """A leg breaks a structural rule (non-positive amount, same account on both sides, unknown lot)."""


class UnknownAccount(LedgerError):
    """An account id or code that does not exist."""


class UnknownMember(LedgerError):
    def __init__(self, member_id: int) -> None:
        self.member_id = member_id
        super().__init__(f"member {member_id} does not exist")


class InsufficientCredits(LedgerError):
    """A bounded account would go below zero; nothing is posted."""

    def __init__(self, account_id: int, needed: int, available: int) -> None:
        self.account_id = account_id
        self.needed = needed
        self.available = available
        super().__init__(f"insufficient credits: {needed} needed, {available} available")


class IdempotencyConflict(LedgerError):
    """The idempotency key was already used for a different request."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"idempotency key {key!r} was already used with a different request; use a new key for a new request"
        )


class Conflict(LedgerError):
    """The request is well formed but clashes with the ledger's state (for example a second verdict)."""


class NotFound(LedgerError):
    """Something the request names (other than a member or an account) does not exist."""


class RateLimited(LedgerError):
    """Too many of this kind of request in a period (for example feedback per day)."""


class BadRequest(LedgerError):
    """The request is malformed in a way only the ledger can tell (for example a month in the future)."""


class Overloaded(LedgerError):
    """The charge queue is full, or a charge waited longer than its bound for its batch: try again later.

    Safe to retry with the same idempotency key: a charge that was queued runs at most once, and a retry
    after it ran gets its first reply.
    """

    def __init__(self, message: str, retry_after_seconds: int = 1) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__(message)
