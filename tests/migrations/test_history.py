"""The Alembic history: one head, linear after `0003_merge`, gathered from the registered parts' folders;
every database reaches the head (also one left at the two heads the history had before the merge
revision), and upgrading a database that is at the head writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, text
from typer.testing import CliRunner

from datalever import migrations
from datalever.cli import app
from datalever.ledger.db import make_engine

OLD_HEADS = {"stipends_0001", "flows_0001"}  # what `upgrade("heads")` left before 0003_merge
MERGE = "0003_merge"
BEFORE_THE_MERGE = {"0001_ledger", "0002_ledger", "stipends_0001", "flows_0001"}  # history: never changes


def _head() -> str:
    heads = ScriptDirectory.from_config(migrations.alembic_config()).get_heads()
    assert len(heads) == 1, f"several heads {heads}: add a merge revision (alembic merge)"
    return heads[0]


def _versions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}


def test_the_history_has_one_head() -> None:
    script = ScriptDirectory.from_config(migrations.alembic_config())
    assert script.get_heads() == [_head()]
    assert {revision.revision for revision in script.walk_revisions()} >= OLD_HEADS


def test_after_the_merge_every_revision_has_exactly_one_parent() -> None:
    """New revisions chain one after another (0004_pools, 0005_webapp, ...): no branch, no second merge."""
    script = ScriptDirectory.from_config(migrations.alembic_config())
    after = [rev for rev in script.iterate_revisions(_head(), MERGE) if rev.revision != MERGE]
    for rev in after:
        assert isinstance(rev.down_revision, str), f"{rev.revision} revises {rev.down_revision!r}: chain it on one"
        assert not rev.branch_labels, f"{rev.revision} opens a branch {rev.branch_labels}"
    ancestors = {rev.revision for rev in script.iterate_revisions(MERGE, "base")}
    assert ancestors == BEFORE_THE_MERGE | {MERGE}, "a revision was inserted before 0003_merge"
    every = {rev.revision for rev in script.walk_revisions()}
    assert every == ancestors | {rev.revision for rev in after}, "a revision is not on the line to the head"


def test_the_history_comes_from_the_registered_parts_folders() -> None:
    script = ScriptDirectory.from_config(migrations.alembic_config())
    folders = {path.resolve() for path in migrations.version_locations()}
    for rev in script.walk_revisions():
        assert Path(rev.path).resolve().parent in folders, f"{rev.revision} lives outside the declared folders"


def test_db_upgrade_moves_a_database_at_both_old_heads_to_the_head(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        for revision in sorted(OLD_HEADS):
            migrations.upgrade(engine, revision)
        assert _versions(engine) == OLD_HEADS
        result = CliRunner().invoke(app, ["db", "upgrade", "--database-url", database_url])
        assert result.exit_code == 0, result.output
        assert _versions(engine) == {_head()}
        with engine.connect() as conn:
            (metadata,) = migrations.target_metadata()  # every registered part's tables
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()


def test_upgrading_a_database_at_the_head_writes_nothing(database_url: str) -> None:
    engine = make_engine(database_url)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    try:
        migrations.upgrade(engine)
        event.listen(engine, "before_cursor_execute", record)
        migrations.upgrade(engine)
        assert statements  # it did look
        writes = [sql for sql in statements if not sql.lstrip().upper().startswith(("SELECT", "PRAGMA", "BEGIN"))]
        assert writes == []
        assert _versions(engine) == {_head()}
    finally:
        engine.dispose()
