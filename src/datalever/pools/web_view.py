"""The pools part's implementation of the web app's `PoolsView`: what a community page shows of a pool, its
valuations and proposals, and the member's vote from the page's form.

Everything is read through this part's own storage and operations: the balance from the pool's lots, the
history from the ledger transfers into and out of the pool account, valuations from the stored runs (and the
funding each paid), proposals with their PUBLISHED tallies only (an open proposal shows its options, never a
running count). A vote goes through `operations.vote`, so it is priced, capped and refused exactly as the
API's, and it happens once per form nonce.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, or_, select

from datalever.ledger.models import TRANSFERS
from datalever.ledger.posting import Idempotency, Ledger, request_hash
from datalever.pools import operations, storage
from datalever.pools.errors import UnknownOption, UnknownProposal
from datalever.webapp.pools_view import PoolEntry, PoolSnapshot, Proposal, Valuation

HISTORY_ROWS = 20  # the latest transfers a page lists; the API and the CLI give the whole history


class PoolsWebView:
    """`datalever.webapp.pools_view.PoolsView` over the pools part's tables."""

    def pool(self, conn: Connection, community: str) -> PoolSnapshot | None:
        row = storage.community(conn, community)
        if row is None or row.pool_account_id is None:
            return None
        account = int(row.pool_account_id)
        transfers = conn.execute(
            select(TRANSFERS.c.created_at, TRANSFERS.c.kind, TRANSFERS.c.amount, TRANSFERS.c.credit_account_id)
            .where(or_(TRANSFERS.c.credit_account_id == account, TRANSFERS.c.debit_account_id == account))
            .order_by(TRANSFERS.c.id.desc())
            .limit(HISTORY_ROWS)
        )
        history = [
            PoolEntry(at=t.created_at, kind=t.kind, amount=t.amount if t.credit_account_id == account else -t.amount)
            for t in transfers
        ]
        return PoolSnapshot(balance=operations.pool_balance(conn, account), history=history)

    def valuations(self, conn: Connection, community: str) -> list[Valuation]:
        funded = {(f.month, f.valuation_run_id): int(f.amount) for f in storage.fundings(conn, coalition=community)}
        found = []
        for run in reversed(storage.valuations(conn)):
            rows: list[dict[str, Any]] = run.result.get("communities", [])
            total = sum(float(r["value"]) for r in rows)
            mine = next((r for r in rows if r["community"] == community), None)
            if mine is None or total <= 0:
                continue
            found.append(
                Valuation(
                    month=run.month,
                    method=run.method,
                    share_low=float(mine["value_low"]) / total,
                    share_high=float(mine["value_high"]) / total,
                    credits=funded.get((run.month, run.id), 0),
                )
            )
        return found

    def proposals(self, conn: Connection, community: str) -> list[Proposal]:
        found = []
        for row in reversed(storage.proposals(conn, community)):
            published: dict[str, Any] | None = row.tally
            found.append(
                Proposal(
                    id=row.id,
                    title=row.title,
                    kind=row.kind,
                    status=row.status,
                    closes_at=row.closes_at,
                    tally=[(o["title"], int(o["votes"])) for o in published["options"]] if published else [],
                    outcome=published.get("outcome") if published else None,
                    options=[o.title for o in storage.options(conn, row.id)],
                )
            )
        return found

    def vote(self, ledger: Ledger, member_id: int, proposal_id: int, option: str, votes: int, key: str) -> str:
        with ledger.engine.connect() as conn:
            if storage.proposal(conn, proposal_id) is None:
                raise UnknownProposal(proposal_id)
            by_title = {o.title: int(o.option_id) for o in storage.options(conn, proposal_id)}
        if option not in by_title:
            raise UnknownOption(f"proposal {proposal_id} has no option {option!r}")
        option_id = by_title[option]
        # Scoped to the member: the nonce is theirs, and a replay with the same form answers the first reply.
        idem = Idempotency(
            f"web:member:{member_id}", key, request_hash("web-vote", proposal_id, option_id, votes, member_id)
        )
        body = operations.vote(ledger, idem, proposal_id, member_id, option_id, votes).body
        assert isinstance(body, dict)
        return (
            f"You bought {body['votes_bought']} vote{'s' if body['votes_bought'] != 1 else ''} for '{option}' "
            f"({body['credits']} credits); you now hold {body['votes_held']} on it and have {body['balance']} credits."
        )
