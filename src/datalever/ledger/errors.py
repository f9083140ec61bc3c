"""What can go wrong when posting, as exceptions the service maps to specific HTTP statuses.

Every one of these is raised before the posting transaction commits, so the ledger is left unchanged.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base class; `status` is the HTTP status the service answers with."""

    status = 400

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class InvalidTransfer(LedgerError):
    """A leg breaks a structural rule (non-positive amount, same account on both sides, unknown lot)."""

    status = 422


class UnknownAccount(LedgerError):
    status = 404


class UnknownMember(LedgerError):
    status = 404

    def __init__(self, member_id: int) -> None:
        self.member_id = member_id
        super().__init__(f"member {member_id} does not exist")


class InsufficientCredits(LedgerError):
    """A bounded account would go below zero; nothing is posted."""

    status = 402

    def __init__(self, account_id: int, needed: int, available: int) -> None:
        self.account_id = account_id
        self.needed = needed
        self.available = available
        super().__init__(f"insufficient credits: {needed} needed, {available} available")


class IdempotencyConflict(LedgerError):
    """The idempotency key was already used for a different request."""

    status = 409

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"idempotency key {key!r} was already used with a different request; use a new key for a new request"
        )


class Conflict(LedgerError):
    """The request is well formed but clashes with the ledger's state (for example a second verdict)."""

    status = 409


class NotFound(LedgerError):
    status = 404


class RateLimited(LedgerError):
    status = 429


class BadRequest(LedgerError):
    status = 400
