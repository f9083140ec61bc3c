"""The pools part's operations: every ledger call of the part is in this module.

* a community's pool is a bounded ledger account `pool:<coalition id>` (kind "pool");
* donations (member -> pool), votes (member -> pool or spend sink), monthly funding (issuance -> pools) and
  payouts (pool -> project recipients) are balanced ledger postings under idempotency keys that name the
  business fact: funding `pools.funding/<YYYY-MM>`, a tally `pools.tally/<proposal id>`; donations, votes
  and proposals use the caller's key (scoped to the API key, as every POST);
* the rows that record them (funding, votes, tallies) are written in the same transaction as the transfers.

Operations return the ledger's `Outcome` (status and body, replayed on a retry) and raise `LedgerError`s.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from datalever.economy.grants import month_index
from datalever.economy.pools import (
    PoolsPolicy,
    SpendingRule,
    VoteCreditsTo,
    additional_cost,
    data_use_adopted,
    funding_operators,
    monthly_budget,
    quorum_met,
    split_budget,
    within_cap,
)
from datalever.economy.voting import Project, equal_shares, quadratic_funding
from datalever.flows import store as flows_store
from datalever.flows.catalog import FlowCatalog
from datalever.flows.prefs import Preferences, packaged_crawlers, validate_preferences
from datalever.ledger.errors import BadRequest, Conflict, UnknownMember
from datalever.ledger.models import ACCOUNTS, LOTS, MEMBERS
from datalever.ledger.posting import Idempotency, Ledger, Leg, Outcome, Posting, request_hash
from datalever.pools import storage
from datalever.pools.errors import (
    InvalidCommunity,
    InvalidProposal,
    InvalidValuation,
    MonthNotEnded,
    NoMatchingLink,
    NotAMember,
    PoolTooSmall,
    UnknownCommunity,
    UnknownOption,
    UnknownProposal,
    VoteCapExceeded,
    VotingClosed,
    VotingOpen,
)
from datalever.pools.valuation import ValuationError, value_communities

FOR, AGAINST = 1, 0


# ---- months ---------------------------------------------------------------------------------------
def parse_month(text: str) -> int:
    """Month index of "YYYY-MM" (BadRequest otherwise)."""
    try:
        year_text, month_text = text.split("-")
        year, month = int(year_text), int(month_text)
        if len(year_text) != 4 or len(month_text) != 2 or not 1 <= month <= 12:
            raise ValueError
    except ValueError:
        raise BadRequest(f"month must look like YYYY-MM (e.g. 2026-11); got {text!r}") from None
    return year * 12 + month - 1


def month_start(index: int) -> datetime:
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# ---- communities ----------------------------------------------------------------------------------
def pool_balance(conn: Connection, account_id: int) -> int:
    """Credits in a pool (pool lots never expire)."""
    total = conn.execute(
        select(func.coalesce(func.sum(LOTS.c.remaining), 0)).where(LOTS.c.account_id == account_id)
    ).scalar_one()
    return int(total)


def _community(conn: Connection, coalition: str) -> Any:
    row = storage.community(conn, coalition)
    if row is None:
        raise UnknownCommunity(coalition)
    return row


def _pool(conn: Connection, coalition: str) -> int:
    row = _community(conn, coalition)
    if row.pool_account_id is None:
        raise UnknownCommunity(coalition)
    return int(row.pool_account_id)


def community_body(conn: Connection, coalition: str) -> dict[str, Any]:
    row = _community(conn, coalition)
    return {
        "id": row.id,
        "name": row.name,
        "nodes": list(storage.community_nodes(conn, coalition)),
        "link_platform": row.link_platform,
        "link_site": row.link_site,
        "change_cost": row.change_cost,
        "members": storage.member_count(conn, coalition),
        "pool_account": f"pool:{coalition}",
        "pool_balance": pool_balance(conn, row.pool_account_id) if row.pool_account_id is not None else 0,
        "fundings": [
            {"month": f.month, "amount": f.amount, "operator": f.operator, "valuation_run": f.valuation_run_id}
            for f in storage.fundings(conn, coalition=coalition)
        ],
    }


def put_community(
    ledger: Ledger,
    catalog: FlowCatalog,
    coalition: str,
    name: str | None,
    nodes: list[str],
    platform: str | None,
    site: str | None,
    change_cost: int | None,
) -> tuple[bool, dict[str, Any]]:
    """Create or update a community (a flows coalition) with its catalog nodes and its pool account."""
    for node in nodes:
        if node not in catalog.nodes:
            from datalever.flows.catalog import unknown_node_message

            raise InvalidCommunity(f"nodes: {unknown_node_message(node, catalog.nodes)}")
    if len(set(nodes)) != len(nodes):
        raise InvalidCommunity("nodes: a node is listed twice")
    now = ledger.clock()
    try:
        with ledger.engine.begin() as conn:
            existing = storage.community(conn, coalition)
            cost = change_cost if change_cost is not None else (existing.change_cost if existing else None)
            if cost is None:
                cost = ledger.policy.pools.voting.credits_per_vote  # one vote: the cost of having a say
            created = flows_store.put_coalition(conn, coalition, name, cost, now)
            storage.set_community(conn, coalition, nodes, platform, site, now)
            if existing is None or existing.pool_account_id is None:
                account = conn.execute(
                    insert(ACCOUNTS)
                    .values(code=f"pool:{coalition}", kind="pool", bounded=True, created_at=now)
                    .returning(ACCOUNTS.c.id)
                ).scalar_one()
                storage.set_pool_account(conn, coalition, int(account))
            return created, community_body(conn, coalition)
    except IntegrityError:
        raise Conflict(f"community '{coalition}' was changed concurrently; retry") from None


def join(ledger: Ledger, coalition: str, member_id: int, by_admin: bool, actor: str) -> tuple[bool, dict[str, Any]]:
    """Add a member: an admin records it directly; a member needs a confirmed link on the community's platform."""
    now = ledger.clock()
    try:
        with ledger.engine.begin() as conn:
            row = _community(conn, coalition)
            if conn.execute(select(MEMBERS.c.id).where(MEMBERS.c.id == member_id)).first() is None:
                raise UnknownMember(member_id)
            existing = storage.membership(conn, coalition, member_id)
            if existing is not None:
                return False, {"coalition": coalition, "member_id": member_id, "joined_via": existing.joined_via}
            if by_admin:
                via = f"admin:{actor}"
            else:
                if row.link_platform is None:
                    raise NoMatchingLink(f"community '{coalition}' has no platform to join through; ask an admin")
                link = storage.confirmed_link(conn, member_id, row.link_platform, row.link_site)
                if link is None:
                    where = row.link_platform + (f" ({row.link_site})" if row.link_site else "")
                    raise NoMatchingLink(f"member {member_id} has no confirmed linked account on {where}")
                via = f"link:{link}"
            storage.add_member(conn, coalition, member_id, via, now)
    except IntegrityError:
        return False, {"coalition": coalition, "member_id": member_id}
    return True, {"coalition": coalition, "member_id": member_id, "joined_via": via}


# ---- donations ------------------------------------------------------------------------------------
def donate(ledger: Ledger, idem: Idempotency, coalition: str, member_id: int, amount: int) -> Outcome:
    """Move a member's own credits into a community's pool (expiring credits first, by the spend order)."""

    def work(posting: Posting) -> tuple[int, dict[str, Any]]:
        member = posting.lock_member(member_id)
        pool = _pool(posting.conn, coalition)
        posting.post([Leg(member.account_id, pool, amount, "pool_donation", source=f"donation:{member_id}")])
        return 201, {
            "operation_id": str(posting.operation_id),
            "community": coalition,
            "member_id": member_id,
            "amount": amount,
            "balance": posting.balance(member.account_id),
        }

    return ledger.execute(idem, "pool_donation", work, member_id=member_id)


# ---- valuation and funding ------------------------------------------------------------------------
def _valuation_policy(ledger: Ledger, method: str | None, model: str | None) -> Any:
    valuation = ledger.policy.pools.valuation
    changes: dict[str, Any] = {}
    if method is not None:
        changes["method"] = method
    if model is not None:
        changes["model"] = model
    return valuation.model_validate({**valuation.model_dump(), **changes}) if changes else valuation


def compute_valuation(
    conn: Connection, catalog: FlowCatalog, policy: Any, only: list[str] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    communities = storage.communities_with_nodes(conn)
    if only is not None:
        for coalition in only:
            if storage.community(conn, coalition) is None:
                raise UnknownCommunity(coalition)
            if coalition not in communities:
                raise BadRequest(f"community '{coalition}' has no catalog nodes to value")
        communities = {k: v for k, v in communities.items() if k in only}
    try:
        run = value_communities(catalog, communities, policy)
    except ValuationError as error:
        raise InvalidValuation(str(error)) from None
    return run.inputs(), run.result()


def run_valuation(
    ledger: Ledger,
    idem: Idempotency,
    catalog: FlowCatalog,
    month: str,
    by: str | None,
    method: str | None = None,
    model: str | None = None,
    only: list[str] | None = None,
) -> Outcome:
    """Value the communities for a month and store the run with its inputs (no credits move)."""
    parse_month(month)
    try:
        policy = _valuation_policy(ledger, method, model)
    except ValueError as error:
        raise InvalidValuation(str(error).splitlines()[0]) from None

    def work(posting: Posting) -> tuple[int, dict[str, Any]]:
        inputs, result = compute_valuation(posting.conn, catalog, policy, only)
        run_id = storage.insert_valuation(posting.conn, month, inputs, result, by, posting.now)
        return 201, {"id": run_id, "month": month, "inputs": inputs, "result": result}

    return ledger.execute(idem, "pool_valuation", work)


def derived_funding_operators(conn: Connection, coalition: str, month: int, policy: PoolsPolicy) -> list[str]:
    """Operators whose funding transfers reached the community's pool within the policy's window."""
    rows = storage.fundings(conn, coalition=coalition)
    return funding_operators([(r.operator, parse_month(r.month)) for r in rows if r.amount > 0], month, policy)


def _refresh_funders(conn: Connection, coalition: str, now: datetime, policy: PoolsPolicy, reason: str) -> int | None:
    """Write a preferences version when the funding operators derived from pool transfers changed."""
    latest = storage.latest_preferences(conn, coalition)
    if latest is None:
        return None
    funders = derived_funding_operators(conn, coalition, month_index(now), policy)
    if sorted(latest.document.get("funding_operators", [])) == funders:
        return None
    document = {**latest.document, "funding_operators": funders}
    return storage.add_preferences_version(conn, coalition, document, "pools", reason, now)


def fund_month(ledger: Ledger, catalog: FlowCatalog, month: str, by: str | None) -> Outcome:
    """Fund every valued community's pool for an ended month, exactly once however often it runs.

    The budget is the policy's (fixed, or a share of the month's query spend); it is split by the month's
    latest stored valuation run (one is computed and stored with the funding if none exists).
    """
    index = parse_month(month)
    idem = Idempotency("pools.funding", month, request_hash("pools.funding", month))
    policy = ledger.policy.pools
    operators = {c.operator for c in packaged_crawlers().crawlers}
    if policy.operator not in operators:
        raise BadRequest(f"pools.operator '{policy.operator}' is not an operator of the AI crawler list")

    def work(posting: Posting) -> tuple[int, dict[str, Any]]:
        conn, now = posting.conn, posting.now
        if index >= month_index(now):
            raise MonthNotEnded(f"month {month} has not ended; pools are funded for months that have ended")
        run = storage.latest_valuation(conn, month)
        if run is None:
            inputs, result = compute_valuation(conn, catalog, policy.valuation, None)
            run_id = storage.insert_valuation(conn, month, inputs, result, by, now)
        else:
            run_id, result = int(run.id), run.result
        spent = storage.credits_spent_on_queries(conn, ledger.spend, month_start(index), month_start(index + 1))
        budget = monthly_budget(policy, spent)
        weights = {row["community"]: row["value"] for row in result["communities"]}
        parts = split_budget(budget, weights)
        # Where catalog shares are ranges, the split at the low and at the high case, shown beside it.
        low_case = split_budget(budget, {row["community"]: row["value_low"] for row in result["communities"]})
        high_case = split_budget(budget, {row["community"]: row["value_high"] for row in result["communities"]})
        legs = [
            Leg(ledger.issuance, _pool(conn, c), amount, "pool_funding")
            for c, amount in sorted(parts.items())
            if amount > 0
        ]
        if legs:
            posting.post(legs)
        storage.insert_fundings(
            conn,
            [
                {
                    "month": month,
                    "coalition_id": c,
                    "amount": amount,
                    "operator": policy.operator,
                    "valuation_run_id": run_id,
                    "operation_id": posting.operation_id,
                    "created_at": now,
                }
                for c, amount in sorted(parts.items())
            ],
        )
        versions = {c: _refresh_funders(conn, c, now, policy, f"funding:{month}") for c in sorted(parts)}
        assert sum(parts.values()) == (budget if any(w > 0 for w in weights.values()) else 0)
        return 201, {
            "operation_id": str(posting.operation_id),
            "month": month,
            "budget": budget,
            "credits_spent_on_queries": spent,
            "operator": policy.operator,
            "valuation_run": run_id,
            "range_point": result.get("range_point", policy.valuation.range_point.value),
            "allocations": [
                {
                    "community": c,
                    "amount": a,
                    "amount_low_case": low_case[c],
                    "amount_high_case": high_case[c],
                    "preferences_version": versions[c],
                }
                for c, a in sorted(parts.items())
            ],
        }

    return ledger.execute(idem, "pool_funding", work)


# ---- proposals ------------------------------------------------------------------------------------
def create_proposal(ledger: Ledger, idem: Idempotency, coalition: str, body: dict[str, Any], by: str | None) -> Outcome:
    """Open a proposal: a data-use change (`preferences`) or pool spending (`projects`, `budget`)."""
    voting = ledger.policy.pools.voting

    def work(posting: Posting) -> tuple[int, dict[str, Any]]:
        conn, now = posting.conn, posting.now
        pool = _pool(conn, coalition)
        opens = body.get("opens_at") or now
        closes = body.get("closes_at") or opens + timedelta(days=voting.window_days)
        if closes <= opens:
            raise InvalidProposal("closes_at must be after opens_at")
        values: dict[str, Any] = {
            "coalition_id": coalition,
            "kind": body["kind"],
            "title": body["title"],
            "description": body.get("description"),
            "opens_at": opens,
            "closes_at": closes,
            "status": "open",
            "created_by": by,
            "created_at": now,
        }
        if body["kind"] == "data_use":
            prefs = _proposed_preferences(coalition, body.get("preferences"))
            values["preferences"] = prefs.model_dump(mode="json")
            options = [{"option_id": AGAINST, "title": "against"}, {"option_id": FOR, "title": "for"}]
        else:
            options = _projects(conn, body)
            budget = int(body["budget"])
            held = posting.balance(pool)
            if budget > held:
                raise PoolTooSmall(f"the proposal spends {budget} credits but the pool holds {held}")
            values["budget"] = budget
        proposal_id = storage.insert_proposal(conn, values, options)
        return 201, proposal_body(conn, proposal_id)

    return ledger.execute(idem, "pool_proposal", work)


def _proposed_preferences(coalition: str, document: Any) -> Preferences:
    if not isinstance(document, dict):
        raise InvalidProposal("a data_use proposal needs `preferences`: the coalition's new data-use preferences")
    try:
        prefs = validate_preferences({**document, "coalition": document.get("coalition", coalition)})
    except ValueError as error:
        raise InvalidProposal(f"preferences: {error}") from None
    if prefs.coalition != coalition:
        raise InvalidProposal(f"preferences are for '{prefs.coalition}', the proposal for '{coalition}'")
    return prefs


def _projects(conn: Connection, body: dict[str, Any]) -> list[dict[str, Any]]:
    projects = body.get("projects") or []
    if not projects or body.get("budget") is None:
        raise InvalidProposal("a spending proposal needs `projects` (title, cost, recipient_member_id) and `budget`")
    options = []
    for i, project in enumerate(projects, start=1):
        recipient = int(project["recipient_member_id"])
        if conn.execute(select(MEMBERS.c.id).where(MEMBERS.c.id == recipient)).first() is None:
            raise UnknownMember(recipient)
        options.append(
            {"option_id": i, "title": project["title"], "cost": int(project["cost"]), "recipient_member_id": recipient}
        )
    return options


def proposal_body(conn: Connection, proposal_id: int) -> dict[str, Any]:
    """A proposal as published: its options and, once tallied, per-option totals (never who voted how)."""
    row = storage.proposal(conn, proposal_id)
    if row is None:
        raise UnknownProposal(proposal_id)
    body: dict[str, Any] = {
        "id": row.id,
        "community": row.coalition_id,
        "kind": row.kind,
        "title": row.title,
        "description": row.description,
        "opens_at": row.opens_at.isoformat(),
        "closes_at": row.closes_at.isoformat(),
        "status": row.status,
        "options": [
            {"option_id": o.option_id, "title": o.title, "cost": o.cost, "recipient_member_id": o.recipient_member_id}
            for o in storage.options(conn, proposal_id)
        ],
        "tally": row.tally,
    }
    if row.kind == "data_use":
        body["preferences"] = row.preferences
    else:
        body["budget"] = row.budget
    return body


# ---- votes ----------------------------------------------------------------------------------------
def vote(ledger: Ledger, idem: Idempotency, proposal_id: int, member_id: int, option_id: int, votes: int) -> Outcome:
    """Buy `votes` more votes on an option; the cost (linear or quadratic) counts the votes already held."""
    voting = ledger.policy.pools.voting

    def work(posting: Posting) -> tuple[int, dict[str, Any]]:
        member = posting.lock_member(member_id)  # serialises this member's votes: the cap is counted exactly
        conn, now = posting.conn, posting.now
        row = storage.proposal(conn, proposal_id, lock="share")
        if row is None:
            raise UnknownProposal(proposal_id)
        if row.status != "open":
            raise VotingClosed(f"proposal {proposal_id} is closed ({row.status})")
        if now < row.opens_at or now >= row.closes_at:
            raise VotingClosed(
                f"proposal {proposal_id} takes votes from {row.opens_at.isoformat()} until {row.closes_at.isoformat()}"
            )
        if storage.membership(conn, row.coalition_id, member_id) is None:
            raise NotAMember(f"member {member_id} is not a member of community '{row.coalition_id}'")
        if option_id not in {o.option_id for o in storage.options(conn, proposal_id)}:
            raise UnknownOption(f"proposal {proposal_id} has no option {option_id}")
        held = storage.held_votes(conn, proposal_id, member_id, option_id)
        if not within_cap(held, votes, voting):
            raise VoteCapExceeded(
                f"member {member_id} holds {held} votes on option {option_id}; {votes} more would pass the cap of "
                f"{voting.max_votes_per_member}"
            )
        cost = additional_cost(held, votes, voting)
        sink = _pool(conn, row.coalition_id) if voting.credits_to is VoteCreditsTo.POOL else ledger.spend
        posting.post([Leg(member.account_id, sink, cost, "vote", source=f"votes:proposal:{proposal_id}")])
        storage.insert_vote(
            conn,
            {
                "proposal_id": proposal_id,
                "option_id": option_id,
                "member_id": member_id,
                "votes": votes,
                "credits": cost,
                "operation_id": posting.operation_id,
                "created_at": now,
            },
        )
        return 201, {
            "operation_id": str(posting.operation_id),
            "proposal_id": proposal_id,
            "option_id": option_id,
            "votes_bought": votes,
            "votes_held": held + votes,
            "credits": cost,
            "balance": posting.balance(member.account_id),
        }

    return ledger.execute(idem, "vote", work, member_id=member_id)


# ---- tallies and payouts --------------------------------------------------------------------------
def tally(ledger: Ledger, proposal_id: int, by: str | None) -> Outcome:
    """Close a proposal after its window, exactly once: adopt a data-use change or pay the funded projects."""
    idem = Idempotency("pools.tally", str(proposal_id), request_hash("pools.tally", proposal_id))
    policy = ledger.policy.pools

    def work(posting: Posting) -> tuple[int, dict[str, Any]]:
        conn, now = posting.conn, posting.now
        row = storage.proposal(conn, proposal_id, lock="update")
        if row is None:
            raise UnknownProposal(proposal_id)
        if row.status != "open":
            raise Conflict(f"proposal {proposal_id} is already tallied ({row.status})")
        if now < row.closes_at:
            raise VotingOpen(f"proposal {proposal_id} takes votes until {row.closes_at.isoformat()}; tally after")
        ballots = storage.ballots(conn, proposal_id)
        options = storage.options(conn, proposal_id)
        members = storage.member_count(conn, row.coalition_id)
        voters = len(ballots)
        totals = {
            o.option_id: (
                sum(b.get(o.option_id, (0, 0))[0] for b in ballots.values()),
                sum(b.get(o.option_id, (0, 0))[1] for b in ballots.values()),
                sum(1 for b in ballots.values() if o.option_id in b),
            )
            for o in options
        }
        quorum = quorum_met(voters, max(members, voters), policy.voting)
        published: dict[str, Any] = {
            "voters": voters,
            "members": members,
            "quorum_met": quorum,
            "options": [
                {
                    "option_id": o.option_id,
                    "title": o.title,
                    "votes": totals[o.option_id][0],
                    "credits": totals[o.option_id][1],
                    "voters": totals[o.option_id][2],
                }
                for o in options
            ],
        }
        if row.kind == "data_use":
            adopted = data_use_adopted(totals[FOR][0], totals[AGAINST][0], voters, max(members, voters), policy.voting)
            published["outcome"] = "adopted" if adopted else "rejected"
            if adopted:
                document = {
                    **row.preferences,
                    "funding_operators": derived_funding_operators(conn, row.coalition_id, month_index(now), policy),
                }
                published["preferences_version"] = storage.add_preferences_version(
                    conn, row.coalition_id, document, by, f"proposal:{proposal_id}", now
                )
                _record_agency(conn, row.coalition_id, ballots)
            status = "adopted" if adopted else "rejected"
        else:
            status = _pay_projects(posting, ledger, row, options, ballots, quorum, published, policy)
        storage.close_proposal(conn, proposal_id, status, published, now, posting.operation_id)
        return 200, proposal_body(conn, proposal_id)

    return ledger.execute(idem, "pool_tally", work)


def _record_agency(conn: Connection, coalition: str, ballots: dict[int, dict[int, tuple[int, int]]]) -> None:
    """Members who voted for an adopted change reconfigured the flow for the credits they spent: their
    change cost (the alignment score's agency threshold) becomes that, if lower than before."""
    community = storage.community(conn, coalition)
    assert community is not None
    for member_id, ballot in ballots.items():
        if FOR not in ballot:
            continue
        spent = ballot[FOR][1]
        current = storage.membership(conn, coalition, member_id)
        assert current is not None
        before = current.change_cost if current.change_cost is not None else community.change_cost
        if spent < before:
            storage.set_member_change_cost(conn, coalition, member_id, spent)


def _pay_projects(
    posting: Posting,
    ledger: Ledger,
    row: Any,
    options: list[Any],
    ballots: dict[int, dict[int, tuple[int, int]]],
    quorum: bool,
    published: dict[str, Any],
    policy: PoolsPolicy,
) -> str:
    conn = posting.conn
    pool = _pool(conn, row.coalition_id)
    budget = min(int(row.budget), posting.balance(pool))
    projects = [Project(o.option_id, int(o.cost)) for o in options]
    rule = policy.voting.spending_rule
    payouts: dict[int, int] = {}
    if quorum and rule is SpendingRule.EQUAL_SHARES:
        votes = {m: {o: v for o, (v, _) in b.items()} for m, b in ballots.items()}
        chosen = equal_shares(projects, votes, budget)
        payouts = {pid: next(p.cost for p in projects if p.id == pid) for pid in chosen.selected}
        published["rho"] = {str(pid): str(rho) for pid, rho in chosen.rho.items()}
    elif quorum:
        contributions = {m: {o: c for o, (_, c) in b.items()} for m, b in ballots.items()}
        payouts = {pid: amount for pid, amount in quadratic_funding(projects, contributions, budget).items() if amount}
    recipients = {o.option_id: o.recipient_member_id for o in options}
    legs = []
    for pid, amount in sorted(payouts.items()):
        account = conn.execute(select(MEMBERS.c.account_id).where(MEMBERS.c.id == recipients[pid])).scalar_one()
        legs.append(Leg(pool, int(account), amount, "pool_payout", source=f"pool:{row.coalition_id}:{row.id}"))
    if legs:
        posting.post(legs)
    assert sum(payouts.values()) <= budget
    published.update(
        rule=rule.value,
        budget=budget,
        paid=sum(payouts.values()),
        outcome="funded" if payouts else "nothing funded",
        payouts=[
            {"option_id": pid, "amount": a, "recipient_member_id": recipients[pid]}
            for pid, a in sorted(payouts.items())
        ],
    )
    return "adopted" if payouts else "rejected"
