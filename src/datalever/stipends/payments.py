"""Paying the monthly contributor stipend through the ledger.

For a month that has ended: take every member's confirmed links (confirmed before the month ended and
still confirmed), tally those accounts' stored contributions of the month with the policy's criteria,
and pay each qualifying member `stipend_due(qualifying accounts)` credits, capped per member, as one
ledger transfer from the issuance source. The idempotency key is the member and the month, and the
payment row is written in the same transaction as the transfer, so running the month again (or
concurrently) pays nobody twice.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from datalever.economy.grants import expires_at, month_index
from datalever.economy.stipends import Rule, stipend_due
from datalever.ledger.errors import BadRequest, UnknownMember
from datalever.ledger.models import MEMBERS
from datalever.ledger.posting import Idempotency, Ledger, Leg, Outcome, Posting, request_hash
from datalever.stipends.contributions import stored_records
from datalever.stipends.models import PLATFORM_LINKS, STIPEND_PAYMENTS
from datalever.stipends.tally import ActivityTally, month_label, parse_month

SCOPE = "stipends"


@dataclass(frozen=True)
class AccountResult:
    platform: str
    site: str
    account_id: str
    rule: Rule
    counts: dict[str, int]


@dataclass
class MemberResult:
    member_id: int
    accounts: list[AccountResult] = field(default_factory=list)
    amount: int = 0
    status: str = "not qualified"  # paid | already paid | not qualified | nothing due
    operation_id: str | None = None

    @property
    def rules(self) -> list[str]:
        return [a.rule.label for a in self.accounts if a.rule is not Rule.NONE]

    def body(self) -> dict[str, Any]:
        return {
            "member_id": self.member_id,
            "status": self.status,
            "amount": self.amount,
            "rules": self.rules,
            "operation_id": self.operation_id,
            "accounts": [
                {
                    "platform": a.platform,
                    "site": a.site,
                    "account_id": a.account_id,
                    "rule": a.rule.label,
                    "counts": a.counts,
                }
                for a in self.accounts
            ],
        }


@dataclass
class MonthReport:
    month: int
    members: list[MemberResult]

    @property
    def label(self) -> str:
        return month_label(self.month)

    @property
    def paid(self) -> int:
        return sum(m.amount for m in self.members if m.status == "paid")

    def body(self, paid_now: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "month": self.label,
            "members_listed": len(self.members),
            "members_qualified": sum(1 for m in self.members if m.rules),
            "credits_paid": sum(m.amount for m in self.members if m.status in ("paid", "already paid")),
        }
        if paid_now:
            body["credits_paid_now"] = self.paid
        return {**body, "members": [m.body() for m in self.members]}


def ended_month(text: str, now: datetime) -> int:
    """The month index of "YYYY-MM" if that month is over; the current or a future month is refused."""
    try:
        month = parse_month(text)
    except ValueError as error:
        raise BadRequest(str(error)) from None
    current = month_index(now)
    if month > current:
        raise BadRequest(f"month {text} is in the future; stipends are paid for months that have ended")
    if month == current:
        raise BadRequest(f"month {text} has not ended yet; stipends are paid for months that have ended")
    return month


def _month_end(month: int) -> datetime:
    following = month + 1
    return datetime(following // 12, following % 12 + 1, 1, tzinfo=UTC)


def eligible_links(conn: Connection, month: int, member_id: int | None = None) -> list[Any]:
    """Links that count for `month`: confirmed before it ended, and still confirmed now."""
    query = select(PLATFORM_LINKS).where(
        PLATFORM_LINKS.c.status == "confirmed", PLATFORM_LINKS.c.confirmed_at < _month_end(month)
    )
    if member_id is not None:
        query = query.where(PLATFORM_LINKS.c.member_id == member_id)
    return list(conn.execute(query.order_by(PLATFORM_LINKS.c.member_id, PLATFORM_LINKS.c.id)).all())


def _explain_no_link(conn: Connection, member_id: int, month: int) -> str:
    rows = conn.execute(select(PLATFORM_LINKS).where(PLATFORM_LINKS.c.member_id == member_id)).all()
    pending = [r for r in rows if r.status == "requested"]
    late = [r for r in rows if r.status == "confirmed"]
    reason = f"member {member_id} has no confirmed platform link for {month_label(month)}"
    if pending:
        names = ", ".join(f"link {r.id} ({r.platform} account {r.account_id})" for r in pending)
        return f"{reason}: {names} awaiting the platform's confirmation; nothing was paid"
    if late:
        return f"{reason}: its links were confirmed after the month ended; nothing was paid"
    return f"{reason}; nothing was paid"


def evaluate_month(ledger: Ledger, month: int, member_id: int | None = None) -> list[MemberResult]:
    """Who qualifies for `month` and what each is due (nothing is paid here)."""
    with ledger.engine.connect().execution_options(readonly=True) as conn:
        exists = select(MEMBERS.c.id).where(MEMBERS.c.id == member_id)
        if member_id is not None and conn.execute(exists).first() is None:
            raise UnknownMember(member_id)
        links = eligible_links(conn, month, member_id)
        if member_id is not None and not links:
            raise BadRequest(_explain_no_link(conn, member_id, month))
        owner = {(link.platform, link.site, link.account_id): link.member_id for link in links}
        tally = ActivityTally(ledger.policy.stipend.criteria).add_all(stored_records(conn, month, owner))
    judged = {(a.platform.value, a.site, a.user_id): a for a in tally.results()}
    members: dict[int, MemberResult] = defaultdict(lambda: MemberResult(0))
    for key, member in owner.items():
        result = members[member]
        result.member_id = member
        account = judged.get(key)
        result.accounts.append(
            AccountResult(*key, account.rule if account else Rule.NONE, account.counts if account else {})
        )
    for result in members.values():
        qualifying = sum(1 for a in result.accounts if a.rule is not Rule.NONE)
        result.amount = int(stipend_due(qualifying, ledger.policy.stipend))
        if qualifying and result.amount == 0:
            result.status = "nothing due"
    return sorted(members.values(), key=lambda m: m.member_id)


def _pay(ledger: Ledger, month: int, result: MemberResult) -> None:
    label = month_label(month)
    idem = Idempotency(SCOPE, f"stipend:{result.member_id}:{label}", request_hash("stipend", result.member_id, label))
    rules = json.dumps(
        [
            {"platform": a.platform, "site": a.site, "account_id": a.account_id, "rule": a.rule.label}
            for a in result.accounts
            if a.rule is not Rule.NONE
        ]
    )

    def work(posting: Posting) -> tuple[int, dict[str, Any]]:
        member = posting.lock_member(result.member_id)
        expiry = expires_at(ledger.policy.stipend.expires, posting.now)
        posting.post(
            [Leg(ledger.issuance, member.account_id, result.amount, "stipend", source="stipend", expires_at=expiry)]
        )
        posting.conn.execute(
            insert(STIPEND_PAYMENTS).values(
                member_id=result.member_id,
                month=month,
                amount=result.amount,
                rules=rules,
                operation_id=posting.operation_id,
                paid_at=posting.now,
            )
        )
        body = {"member_id": result.member_id, "month": label, "amount": result.amount}
        return 201, {**body, "operation_id": str(posting.operation_id)}

    outcome = ledger.execute(idem, "stipend", work, member_id=result.member_id)
    result.status = "already paid" if outcome.replayed else "paid"
    result.amount = int(outcome.body["amount"])
    result.operation_id = str(outcome.body["operation_id"])


def run_month(ledger: Ledger, month_text: str, member_id: int | None = None) -> MonthReport:
    """Pay every qualifying member (or one member) for an ended month; safe to run again."""
    month = ended_month(month_text, ledger.clock())
    results = evaluate_month(ledger, month, member_id)
    for result in results:
        if result.rules and result.amount > 0:
            _pay(ledger, month, result)
    return MonthReport(month, results)


def run_month_once(ledger: Ledger, idem: Idempotency, month_text: str, member_id: int | None = None) -> Outcome:
    """The run behind an HTTP request: a retry with the same Idempotency-Key returns the first run's report
    (and runs nothing); the same key with another request is refused (409)."""
    stored = ledger.find(idem)
    if stored is not None:
        return stored
    report = run_month(ledger, month_text, member_id)
    return ledger.execute(idem, "stipends.run", lambda _posting: (200, report.body()))


def month_report(ledger: Ledger, month_text: str) -> MonthReport:
    """Who qualified for an ended month, by which rule, and what was paid (nothing is paid here).

    Paid members come from the payments table, so a member paid and unlinked since still appears.
    """
    month = ended_month(month_text, ledger.clock())
    members = {m.member_id: m for m in evaluate_month(ledger, month)}
    with ledger.engine.connect().execution_options(readonly=True) as conn:
        paid = payments(conn, month)
    for row in paid:
        result = members.get(row["member_id"])
        if result is None:
            accounts = [
                AccountResult(r["platform"], r["site"], r["account_id"], Rule.from_label(r["rule"]), {})
                for r in row["rules"]
            ]
            result = members[row["member_id"]] = MemberResult(row["member_id"], accounts)
        result.status, result.amount, result.operation_id = "paid", row["amount"], row["operation_id"]
    paid_members = {row["member_id"] for row in paid}
    for result in members.values():
        if result.rules and result.amount > 0 and result.member_id not in paid_members:
            result.status = "due, not yet paid"
    return MonthReport(month, sorted(members.values(), key=lambda m: m.member_id))


def payments(conn: Connection, month: int) -> list[dict[str, Any]]:
    """What was paid for a month, from the payments table (the durable record behind the report)."""
    rows = conn.execute(
        select(STIPEND_PAYMENTS).where(STIPEND_PAYMENTS.c.month == month).order_by(STIPEND_PAYMENTS.c.member_id)
    ).all()
    return [
        {
            "member_id": row.member_id,
            "amount": row.amount,
            "rules": json.loads(row.rules),
            "operation_id": str(row.operation_id),
            "paid_at": row.paid_at.isoformat(),
        }
        for row in rows
    ]
