"""Upgrading a database from before `members.answers` counts the charges it already holds per member."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import insert, select

from datalever import migrations as migrate
from datalever.ledger.db import make_engine
from datalever.ledger.models import ACCOUNTS, MEMBERS, OPERATIONS


def test_upgrade_counts_each_members_stored_charges(database_url: str) -> None:
    engine = make_engine(database_url)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    try:
        migrate.upgrade(engine, "0003_merge")
        with engine.begin() as conn:
            for member in (1, 2, 3):
                account = {"id": 10 + member, "code": f"member:{member}", "kind": "member", "bounded": True}
                conn.execute(insert(ACCOUNTS).values(**account, created_at=now))
                conn.execute(insert(MEMBERS).values(id=member, account_id=10 + member, reputation=1.0, joined_at=now))
            charges = [(1, "query")] * 3 + [(2, "query"), (2, "grant"), (None, "query")]
            for index, (member, kind) in enumerate(charges):
                conn.execute(
                    insert(OPERATIONS).values(
                        id=uuid.uuid4(),
                        scope="s",
                        key=str(index),
                        request_hash="h",
                        kind=kind,
                        member_id=member,
                        status_code=201,
                        response="{}",
                        created_at=now,
                    )
                )
        migrate.upgrade(engine)
        with engine.connect() as conn:
            answers = dict(conn.execute(select(MEMBERS.c.id, MEMBERS.c.answers).order_by(MEMBERS.c.id)).all())
        assert answers == {1: 3, 2: 1, 3: 0}
    finally:
        engine.dispose()
