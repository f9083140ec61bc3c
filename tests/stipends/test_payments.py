"""Paying stipends: only confirmed links, once per member and month, capped, through ledger transfers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from datalever.economy import load_policy
from datalever.economy.stipends import Rule
from datalever.importers import Contribution, ImportFormatError, Platform, read_dump, read_events, read_usercontribs
from datalever.ledger.errors import BadRequest
from datalever.ledger.models import TRANSFERS
from datalever.ledger.posting import Ledger
from datalever.stipends import links, payments
from datalever.stipends.contributions import import_contributions
from datalever.stipends.models import CONTRIBUTION_IMPORTS, CONTRIBUTIONS, STIPEND_PAYMENTS
from datalever.stipends.tally import parse_month, tally_dump
from tests.support.books import check_books, new_member, spendable
from tests.support.clock import Clock
from tests.support.data import require_shared_data

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GITHUB = FIXTURES / "github" / "events.json"
ADA = FIXTURES / "mediawiki" / "usercontribs-ada-fv2.json"
BRAM = FIXTURES / "mediawiki" / "usercontribs-bram-fv1.json"
SITE = "bicycles.stackexchange.com"


def se_posts(user: str, month: str, scores: list[int]) -> list[Contribution]:
    return [
        Contribution(
            platform=Platform.STACKEXCHANGE,
            site=SITE,
            user_id=user,
            kind="answer",
            source_id=f"post:{user}{month}{i}",
            occurred_at=f"{month}-0{i + 1}T10:00:00Z",
            score=score,
            accepted=False,
        )
        for i, score in enumerate(scores)
    ]


def import_all(ledger: Ledger) -> None:
    now = ledger.clock()
    import_contributions(ledger.engine, read_events(GITHUB), Platform.GITHUB, "events.json", "test", now)
    for page in (ADA, BRAM):
        import_contributions(ledger.engine, read_usercontribs(page), Platform.WIKIPEDIA, page.name, "test", now)
    posts = se_posts("17", "2024-04", [3, 1]) + se_posts("18", "2024-04", [0, 0, 0, 0, -2])
    import_contributions(ledger.engine, posts, Platform.STACKEXCHANGE, "posts", "test", now)


def link(
    ledger: Ledger, member: int, platform: str, account: str, site: str | None = None, confirm: bool = True
) -> int:
    with ledger.engine.begin() as conn:
        made = links.request_link(conn, member, platform, site, account, "test", ledger.clock())
        if confirm:
            links.confirm_link(conn, made.id, "platform:test", ledger.clock())
    return made.id


@pytest.fixture
def members(ledger: Ledger, clock: Clock) -> dict[str, int]:
    """octo (GitHub 5001), ada (Wikipedia 4242 + Stack Exchange 17), bram (unconfirmed), gamer (SE 18)."""
    clock.now = datetime(2024, 1, 20, tzinfo=UTC)  # links confirmed before the months being paid
    found = {name: new_member(ledger)[0] for name in ("octo", "ada", "bram", "gamer")}
    link(ledger, found["octo"], "github", "5001")
    link(ledger, found["ada"], "wikipedia", "4242")
    link(ledger, found["ada"], "stackexchange", "17", site=SITE)
    link(ledger, found["bram"], "wikipedia", "777", confirm=False)
    link(ledger, found["gamer"], "stackexchange", "18", site=SITE)
    clock.now = datetime(2024, 7, 10, 12, tzinfo=UTC)
    import_all(ledger)
    return found


def payment_rows(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(STIPEND_PAYMENTS)).scalar_one())


def test_month_pays_qualified_members_by_rule(ledger: Ledger, members: dict[str, int]) -> None:
    february = {m.member_id: m for m in payments.run_month(ledger, "2024-02").members}
    assert february[members["octo"]].rules == ["github.merged_pull_request"]
    assert (february[members["octo"]].status, february[members["octo"]].amount) == ("paid", 50)
    assert february[members["ada"]].status == "not qualified"
    assert members["bram"] not in february  # an unconfirmed link counts for nothing

    april = {m.member_id: m for m in payments.run_month(ledger, "2024-04").members}
    assert sorted(april[members["ada"]].rules) == ["stackexchange.scored_posts", "wikipedia.article_edits"]
    assert april[members["ada"]].amount == 50  # two platforms, capped at the policy's maximum
    assert april[members["gamer"]].status == "not qualified"  # five zero or negative posts
    assert spendable(ledger, members["octo"]) == 50
    assert spendable(ledger, members["ada"]) == 50
    check_books(ledger)


def test_running_a_month_again_pays_nobody_twice(ledger: Ledger, members: dict[str, int]) -> None:
    first = payments.run_month(ledger, "2024-04")
    paid = [m for m in first.members if m.status == "paid"]
    again = payments.run_month(ledger, "2024-04")
    assert [m.status for m in again.members if m.rules] == ["already paid"] * len(paid)
    assert again.paid == 0
    assert payment_rows(ledger) == len(paid) > 0
    assert spendable(ledger, members["ada"]) == 50
    with ledger.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(TRANSFERS.c.kind == "stipend")).scalar_one() == len(paid)


def test_cap_applies_when_the_stipend_per_platform_is_smaller(ledger: Ledger, members: dict[str, int]) -> None:
    policy = load_policy()
    stipend = policy.stipend.model_copy(update={"credits_per_month": 30, "max_per_member_per_month": 50})
    capped = Ledger(ledger.engine, policy.model_copy(update={"stipend": stipend}), ledger.clock)
    april = {m.member_id: m for m in payments.run_month(capped, "2024-04").members}
    assert april[members["ada"]].amount == 50  # 2 x 30 = 60, capped at 50
    february = {m.member_id: m for m in payments.run_month(capped, "2024-02").members}
    assert february[members["octo"]].amount == 30


@pytest.mark.parametrize(
    ("month", "expected"),
    [("2024-07", "has not ended"), ("2024-08", "in the future"), ("2031-01", "in the future"), ("2024-13", "YYYY-MM")],
)
def test_bad_months_pay_nothing(ledger: Ledger, members: dict[str, int], month: str, expected: str) -> None:
    with pytest.raises(BadRequest, match=expected):
        payments.run_month(ledger, month)
    assert payment_rows(ledger) == 0


def test_unconfirmed_link_is_a_clear_error(ledger: Ledger, members: dict[str, int]) -> None:
    with pytest.raises(BadRequest, match=r"awaiting the platform's confirmation; nothing was paid"):
        payments.run_month(ledger, "2024-04", member_id=members["bram"])
    assert payment_rows(ledger) == 0


def test_links_confirmed_after_the_month_or_unlinked_do_not_pay(ledger: Ledger, members: dict[str, int]) -> None:
    with ledger.engine.begin() as conn:
        [ada_wiki] = [found for found in links.member_links(conn, members["ada"]) if found.platform == "wikipedia"]
        links.unlink(conn, ada_wiki.id, "test", ledger.clock())
    late, _ = new_member(ledger)
    link(ledger, late, "wikipedia", "4242")  # relinked to someone else in July: April is not theirs
    april = {m.member_id: m for m in payments.run_month(ledger, "2024-04").members}
    assert april[members["ada"]].rules == ["stackexchange.scored_posts"]
    assert late not in april
    with pytest.raises(BadRequest, match="confirmed after the month ended"):
        payments.run_month(ledger, "2024-04", member_id=late)


def test_import_is_all_or_nothing_and_idempotent(tmp_path: Path, ledger: Ledger) -> None:
    now = ledger.clock()
    first = import_contributions(ledger.engine, read_events(GITHUB), Platform.GITHUB, "events.json", "t", now)
    assert first.records_new == first.records_read > 0
    again = import_contributions(ledger.engine, read_events(GITHUB), Platform.GITHUB, "events.json", "t", now)
    assert (again.records_read, again.records_new) == (first.records_read, 0)

    # A JSON Lines export broken on its 6th line: five events are already inserted when the error comes.
    lines = (FIXTURES / "github" / "events.jsonl").read_text().splitlines()
    lines[5] = lines[5][:50]
    broken = tmp_path / "more.jsonl"
    broken.write_text("\n".join(line.replace('"id": "4', '"id": "9') for line in lines) + "\n")
    with ledger.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(CONTRIBUTIONS)).scalar_one()
        imports = conn.execute(select(func.count()).select_from(CONTRIBUTION_IMPORTS)).scalar_one()
    with pytest.raises(ImportFormatError, match=r"more\.jsonl: line 6"):
        import_contributions(ledger.engine, read_events(broken), Platform.GITHUB, "more.jsonl", "t", now, batch_size=2)
    with ledger.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(CONTRIBUTIONS)).scalar_one() == before
        assert conn.execute(select(func.count()).select_from(CONTRIBUTION_IMPORTS)).scalar_one() == imports


def test_real_dump_payment_agrees_with_the_replay(ledger: Ledger, clock: Clock) -> None:
    dump = require_shared_data("stackexchange-bicycles-meta")
    site = "bicycles.meta.stackexchange.com"
    replayed = tally_dump(dump, site, ledger.policy.stipend.criteria).results()
    chosen = next(a for a in replayed if a.rule is not Rule.NONE and a.month >= parse_month("2015-01"))
    idle = next(a for a in replayed if a.rule is Rule.NONE and a.month == chosen.month)
    summary = import_contributions(ledger.engine, read_dump(dump, site), Platform.STACKEXCHANGE, "dump", "t", clock())
    assert summary.records_new + summary.records_not_stored == summary.records_read
    clock.now = datetime(chosen.month // 12, chosen.month % 12 + 1, 1, tzinfo=UTC)  # linked during the month
    active, _ = new_member(ledger)
    quiet, _ = new_member(ledger)
    link(ledger, active, "stackexchange", chosen.user_id, site=site)
    link(ledger, quiet, "stackexchange", idle.user_id, site=site)
    clock.now = datetime(2024, 7, 10, tzinfo=UTC)
    report = {m.member_id: m for m in payments.run_month(ledger, chosen.month_label).members}
    assert report[active].rules == [chosen.rule.label] and report[active].status == "paid"
    assert report[quiet].status == "not qualified"
    assert spendable(ledger, active) == ledger.policy.stipend.credits_per_month
