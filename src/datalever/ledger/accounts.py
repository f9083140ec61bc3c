"""The accounts cache: accounts never change once created, so each is read once per process."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select

from datalever.ledger.errors import UnknownAccount
from datalever.ledger.models import ACCOUNTS


@dataclass(frozen=True)
class AccountInfo:
    id: int
    code: str
    kind: str
    bounded: bool


class AccountBook:
    """Account kinds by id and ids by code, filled on first use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._by_id: dict[int, AccountInfo] = {}
        self._by_code: dict[str, int] = {}

    def id_of(self, code: str) -> int:
        if code not in self._by_code:
            with self.engine.connect().execution_options(readonly=True) as conn:
                row = conn.execute(select(ACCOUNTS).where(ACCOUNTS.c.code == code)).first()
            if row is None:
                raise UnknownAccount(f"account {code!r} does not exist")
            self.remember(AccountInfo(row.id, row.code, row.kind, row.bounded))
        return self._by_code[code]

    def info(self, conn: Connection, ids: Iterable[int]) -> dict[int, AccountInfo]:
        """The accounts `ids`, read in the caller's transaction if not cached; UnknownAccount if one is missing."""
        wanted = set(ids)
        missing = [account for account in wanted if account not in self._by_id]
        if missing:
            for row in conn.execute(select(ACCOUNTS).where(ACCOUNTS.c.id.in_(missing))):
                self.remember(AccountInfo(row.id, row.code, row.kind, row.bounded))
        unknown = sorted(account for account in wanted if account not in self._by_id)
        if unknown:
            raise UnknownAccount(f"account {unknown[0]} does not exist")
        return {account: self._by_id[account] for account in wanted}

    def remember(self, info: AccountInfo) -> None:
        self._by_id[info.id] = info
        self._by_code[info.code] = info.id

    def remember_member(self, member_id: int, account_id: int) -> None:
        if account_id not in self._by_id:
            self.remember(AccountInfo(account_id, f"member:{member_id}", "member", True))
