"""A database made by datalever at commit 6f7ae76 (before the layout change) upgrades cleanly to the head.

`tests/fixtures/databases/main-6f7ae76.json` holds every row such a database held (made by that commit's own
code, see make_main_6f7ae76.py). The test puts the rows into a database at revision 0003_merge, upgrades it
with today's migrations, and checks that the schema matches today's tables, that no row was lost, that the
books still balance, and that the service keeps working on it with the keys it already had.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, column, func, select, table, text

from datalever import migrations
from datalever.economy import load_policy
from datalever.ledger.db import make_engine
from datalever.ledger.posting import Ledger
from datalever.service.app import create_app
from datalever.service.settings import Settings
from datalever.web.keys import Role, authenticate
from tests.support.books import check_books, spendable
from tests.support.clock import Clock

FIXTURE = Path(__file__).parents[1] / "fixtures" / "databases" / "main-6f7ae76.json"
SNAPSHOT: dict[str, Any] = json.loads(FIXTURE.read_text())


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    if isinstance(value, dict) and "$uuid" in value:
        return uuid.UUID(value["$uuid"])
    return value


def load_snapshot(engine: Engine, metadata: MetaData) -> None:
    """Replace the rows of a database at 0003_merge with the snapshot's (typed by today's column types)."""
    names = SNAPSHOT["tables"]
    ordered = [t for t in metadata.sorted_tables if t.name in names]
    assert {t.name for t in ordered} == set(names), "a table of 6f7ae76 is gone from today's models"
    with engine.begin() as conn:
        for model in reversed(ordered):
            conn.execute(text(f'DELETE FROM "{model.name}"'))  # the seeded system accounts come back below
        for model in ordered:
            rows = [{key: _decode(value) for key, value in row.items()} for row in names[model.name]]
            if not rows:
                continue
            # Only the snapshot's columns (a lightweight table: no Python-side defaults of later columns).
            old = table(model.name, *(column(name, model.c[name].type) for name in rows[0]))
            conn.execute(old.insert(), rows)
            if conn.dialect.name == "postgresql" and "id" in rows[0] and isinstance(rows[0]["id"], int):
                sequence = f"pg_get_serial_sequence('{model.name}', 'id')"  # ids go on after the old ones
                conn.execute(text(f'SELECT setval({sequence}, (SELECT max(id) FROM "{model.name}"))'))


@pytest.fixture
def upgraded(database_url: str) -> Iterator[Engine]:
    """The snapshot at 0003_merge, then `migrations.upgrade` to the head."""
    assert SNAPSHOT["alembic_version"] == ["0003_merge"]
    engine = make_engine(database_url)
    try:
        migrations.upgrade(engine, "0003_merge")
        (metadata,) = migrations.target_metadata()
        load_snapshot(engine, metadata)
        migrations.upgrade(engine)
        yield engine
    finally:
        engine.dispose()


def test_the_schema_reaches_the_head_and_matches_todays_tables(upgraded: Engine) -> None:
    (metadata,) = migrations.target_metadata()
    with upgraded.connect() as conn:
        versions = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    assert versions == ScriptDirectory.from_config(migrations.alembic_config()).get_heads()


def test_no_row_is_lost_and_the_books_balance(upgraded: Engine) -> None:
    (metadata,) = migrations.target_metadata()
    with upgraded.connect() as conn:
        for name, rows in SNAPSHOT["tables"].items():
            count = conn.execute(select(func.count()).select_from(metadata.tables[name])).scalar_one()
            assert count == len(rows), f"{name}: {count} rows after the upgrade, {len(rows)} before"
    now = datetime.fromisoformat(SNAPSHOT["now"])
    ledger = Ledger(upgraded, load_policy(), Clock(now))
    check_books(ledger)
    for member, balance in SNAPSHOT["balances"].items():
        assert spendable(ledger, int(member)) == balance


def test_the_keys_it_had_still_work_and_the_service_runs_on_it(upgraded: Engine, database_url: str) -> None:
    tokens = SNAPSHOT["tokens"]
    with upgraded.connect() as conn:
        admin = authenticate(conn, tokens["admin"])
        member = authenticate(conn, tokens["member"])
    assert admin is not None and admin.role is Role.ADMIN
    assert member is not None and member.member_id == tokens["member_id"]

    clock = Clock(datetime.fromisoformat(SNAPSHOT["now"]))
    app = create_app(Settings(database_url=database_url, auth_cache_seconds=0), clock=clock)
    member_id = tokens["member_id"]
    as_admin = {"Authorization": f"Bearer {tokens['admin']}"}
    as_member = {"Authorization": f"Bearer {tokens['member']}"}
    with TestClient(app) as client:
        before = client.get(f"/v1/members/{member_id}/balance", headers=as_member)
        assert before.status_code == 200, before.text
        assert before.json()["balance"] == SNAPSHOT["balances"][str(member_id)]
        charged = client.post(
            f"/v1/members/{member_id}/charges", headers={**as_admin, "Idempotency-Key": "after-upgrade"}
        )
        assert charged.status_code == 201, charged.text
        after = client.get(f"/v1/members/{member_id}/balance", headers=as_member).json()
        assert after["balance"] == before.json()["balance"] - charged.json()["price"]
        created = client.post("/v1/members", json={}, headers={**as_admin, "Idempotency-Key": "new-member"})
        assert created.status_code == 201, created.text
        assert created.json()["id"] > max(int(m) for m in SNAPSHOT["balances"])  # ids continue after the old ones
    app.state.ledger.engine.dispose()
