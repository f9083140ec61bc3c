"""Stipend service fixtures: the ledger's per-test SQLite ledger and service, members, and link helpers."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from datalever import migrations
from datalever.economy import load_policy
from datalever.ledger.db import make_engine
from datalever.ledger.posting import Ledger
from tests.support.clock import Clock

_actors = itertools.count()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2024, 7, 10, 12, 0, tzinfo=UTC))  # after every month of the fixtures


@pytest.fixture
def ledger(tmp_path: Path, clock: Clock) -> Iterator[Ledger]:
    engine = make_engine(f"sqlite:///{tmp_path / 'stipends.db'}")
    migrations.upgrade(engine)
    yield Ledger(engine, load_policy(), clock)
    engine.dispose()
