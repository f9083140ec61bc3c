"""What the community pages need from the pools part, as a small interface the pools part implements.

The web app never imports the pools part: a part that implements it names it in its `Part.web_views`
(`{"pools_view": ...}`), and the service puts it on `app.state.pools_view` when it assembles the app.
Without one, the pool, valuation and proposal sections say "not yet available".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection

from datalever.ledger.posting import Ledger


@dataclass(frozen=True)
class PoolEntry:
    at: datetime
    kind: str  # funding, donation, payout, vote ...
    amount: int  # credits into the pool (negative: out of it)


@dataclass(frozen=True)
class PoolSnapshot:
    balance: int
    history: list[PoolEntry]


@dataclass(frozen=True)
class Valuation:
    month: str
    method: str
    share_low: float
    share_high: float
    credits: int


@dataclass(frozen=True)
class Proposal:
    id: int
    title: str
    kind: str  # data_use | pool_spending
    status: str  # open | adopted | rejected | funded ...
    closes_at: datetime | None
    tally: list[tuple[str, int]]  # (option, votes), published totals only (empty until the tally)
    outcome: str | None
    options: list[str] = field(default_factory=list)  # what the vote form offers while the proposal is open


class PoolsView(Protocol):
    """Views of a community's pool, valuations and proposals (None / [] when it has none), and the one action
    the pages take: a member's vote."""

    def pool(self, conn: Connection, community: str) -> PoolSnapshot | None: ...

    def valuations(self, conn: Connection, community: str) -> list[Valuation]: ...

    def proposals(self, conn: Connection, community: str) -> list[Proposal]: ...

    def vote(self, ledger: Ledger, member_id: int, proposal_id: int, option: str, votes: int, key: str) -> str:
        """Cast `votes` votes for `option` on an open proposal, paying their credit cost, once per `key` (the
        form's one-time nonce, so a resubmitted form votes once). Returns what to tell the member; raises a
        LedgerError (shown next to the form) when refused."""
        ...
