"""On PostgreSQL: the migration applies, imports roll back whole, and concurrent runs pay each member once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from datalever import migrations
from datalever.economy import load_policy
from datalever.importers import ImportFormatError, Platform, read_events
from datalever.ledger.db import make_engine
from datalever.ledger.errors import Conflict
from datalever.ledger.models import TRANSFERS
from datalever.ledger.posting import Ledger
from datalever.stipends import links, payments
from datalever.stipends.contributions import import_contributions
from datalever.stipends.models import CONTRIBUTIONS, STIPEND_PAYMENTS
from tests.support.books import check_books, new_member
from tests.support.postgres import fresh_database

pytestmark = pytest.mark.postgres
EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "github"


def test_concurrent_runs_pay_each_member_once_on_postgres(tmp_path: Path) -> None:
    with fresh_database("dl_stipends") as url:
        engine = make_engine(url)
        try:
            migrations.upgrade(engine)
            clock = {"now": datetime(2024, 1, 20, tzinfo=UTC)}
            ledger = Ledger(engine, load_policy(), lambda: clock["now"])
            member, _ = new_member(ledger)
            rival, _ = new_member(ledger)
            with engine.begin() as conn:
                mine = links.request_link(conn, member, "github", None, "5001", "test", clock["now"])
                theirs = links.request_link(conn, rival, "github", None, "5001", "test", clock["now"])
                links.confirm_link(conn, mine.id, "platform:test", clock["now"])
            with pytest.raises(Conflict, match="already linked to another member"), engine.begin() as conn:
                links.confirm_link(conn, theirs.id, "platform:test", clock["now"])
            clock["now"] = datetime(2024, 7, 1, tzinfo=UTC)

            lines = (EVENTS / "events.jsonl").read_text().splitlines()
            broken = tmp_path / "broken.jsonl"
            broken.write_text("\n".join([*lines[:4], lines[4][:30]]) + "\n")
            with pytest.raises(ImportFormatError):
                import_contributions(engine, read_events(broken), Platform.GITHUB, "b", "t", clock["now"], batch_size=2)
            with engine.connect() as conn:
                assert conn.execute(select(func.count()).select_from(CONTRIBUTIONS)).scalar_one() == 0
            import_contributions(engine, read_events(EVENTS / "events.json"), Platform.GITHUB, "e", "t", clock["now"])

            reports: list[payments.MonthReport] = []
            threads = [
                threading.Thread(target=lambda: reports.append(payments.run_month(ledger, "2024-02"))) for _ in range(4)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert len(reports) == 4
            statuses = sorted(report.members[0].status for report in reports)
            assert statuses == ["already paid"] * 3 + ["paid"]
            with engine.connect() as conn:
                assert conn.execute(select(func.count()).select_from(STIPEND_PAYMENTS)).scalar_one() == 1
                assert conn.execute(select(func.count()).where(TRANSFERS.c.kind == "stipend")).scalar_one() == 1
            check_books(ledger)
        finally:
            engine.dispose()


def test_concurrent_confirmations_link_an_account_to_one_member_on_postgres() -> None:
    with fresh_database("dl_stipends_links") as url:
        engine = make_engine(url)
        try:
            migrations.upgrade(engine)
            now = datetime(2024, 1, 20, tzinfo=UTC)
            ledger = Ledger(engine, load_policy(), lambda: now)
            requests = []
            for _ in range(6):
                member, _ = new_member(ledger)
                with engine.begin() as conn:
                    requests.append(links.request_link(conn, member, "wikipedia", None, "4242", "test", now).id)
            outcomes: list[str] = []
            barrier = threading.Barrier(len(requests))

            def confirm(link_id: int) -> None:
                barrier.wait()
                try:
                    with engine.begin() as conn:
                        links.confirm_link(conn, link_id, "platform:test", now)
                    outcomes.append("confirmed")
                except Conflict:
                    outcomes.append("refused")

            threads = [threading.Thread(target=confirm, args=(link_id,)) for link_id in requests]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(outcomes) == ["confirmed"] + ["refused"] * (len(requests) - 1)
            with engine.connect() as conn:
                history = links.link_history(conn, "wikipedia", "en.wikipedia.org", "4242")
            assert [event["action"] for event in history].count("confirmed") == 1
        finally:
            engine.dispose()
