"""What the community pages need from the pools part, as a small interface the pools part implements.

The web app never imports the pools part: the service puts an implementation on `app.state.pools_view`
when it assembles the app. Without one, the pool, valuation and proposal sections say "not yet available".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection


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
    tally: list[tuple[str, int]]  # (option, votes), published totals only
    outcome: str | None


class PoolsView(Protocol):
    """Read-only views of a community's pool, valuations and proposals (None / [] when it has none)."""

    def pool(self, conn: Connection, community: str) -> PoolSnapshot | None: ...

    def valuations(self, conn: Connection, community: str) -> list[Valuation]: ...

    def proposals(self, conn: Connection, community: str) -> list[Proposal]: ...
