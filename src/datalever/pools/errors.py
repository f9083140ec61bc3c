"""Refusals of the pools part, as ledger errors with a stable code (the class name in snake case).

Each is raised before the operation's transaction commits, so a refused request changes nothing. The web
layer answers each like its base: `Forbidden` 403, `Unprocessable` 400 (content beyond what the schema can
say, as elsewhere in the API), `NotFound` 404, `Conflict` 409, `BadRequest` 400.
"""

from __future__ import annotations

from typing import ClassVar

from datalever.ledger.errors import BadRequest, Conflict, LedgerError, NotFound


class Forbidden(LedgerError):
    """The caller is known but may not do this here (not a member of the community, no matching link)."""

    code: ClassVar[str] = "forbidden"


class Unprocessable(BadRequest):
    """Well-formed JSON whose content the part cannot accept (an unknown node, option, model...)."""

    code: ClassVar[str] = "unprocessable"


class UnknownCommunity(NotFound):
    def __init__(self, coalition: str) -> None:
        super().__init__(f"community '{coalition}' does not exist")


class UnknownProposal(NotFound):
    def __init__(self, proposal_id: int) -> None:
        super().__init__(f"proposal {proposal_id} does not exist")


class NotAMember(Forbidden):
    """The member does not belong to the community whose proposal they tried to vote on."""


class NoMatchingLink(Forbidden):
    """Joining by linked account needs a confirmed link on the community's platform."""


class VotingClosed(Conflict):
    """The proposal is not open for votes now (before its window, after it, or already tallied)."""


class VotingOpen(Conflict):
    """A tally was asked for before the voting window ended."""


class VoteCapExceeded(Conflict):
    """The member would hold more votes on the option than the policy's per-member cap."""


class PoolTooSmall(Conflict):
    """A spending proposal asks for more than the community's pool holds."""


class UnknownOption(Unprocessable):
    pass


class InvalidProposal(Unprocessable):
    pass


class InvalidCommunity(Unprocessable):
    pass


class InvalidValuation(Unprocessable):
    pass


class MonthNotEnded(BadRequest):
    """Pools are funded for months that have ended (the month's query spend is then final)."""
