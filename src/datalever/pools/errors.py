"""Refusals of the pools part, as ledger errors with a stable code (the class name in snake case).

Each is raised before the operation's transaction commits, so a refused request changes nothing.
"""

from __future__ import annotations

from datalever.ledger.errors import BadRequest, Conflict, LedgerError, NotFound


class UnknownCommunity(NotFound):
    def __init__(self, coalition: str) -> None:
        super().__init__(f"community '{coalition}' does not exist")


class UnknownProposal(NotFound):
    def __init__(self, proposal_id: int) -> None:
        super().__init__(f"proposal {proposal_id} does not exist")


class NotAMember(LedgerError):
    """The member does not belong to the community whose proposal they tried to vote on."""

    status = 403


class NoMatchingLink(LedgerError):
    """Joining by linked account needs a confirmed link on the community's platform."""

    status = 403


class VotingClosed(Conflict):
    """The proposal is not open for votes now (before its window, after it, or already tallied)."""


class VotingOpen(Conflict):
    """A tally was asked for before the voting window ended."""


class VoteCapExceeded(Conflict):
    """The member would hold more votes on the option than the policy's per-member cap."""


class PoolTooSmall(Conflict):
    """A spending proposal asks for more than the community's pool holds."""


class UnknownOption(BadRequest):
    status = 422


class InvalidProposal(BadRequest):
    status = 422


class InvalidCommunity(BadRequest):
    status = 422


class InvalidValuation(BadRequest):
    status = 422


class MonthNotEnded(BadRequest):
    """Pools are funded for months that have ended (the month's query spend is then final)."""
