"""Where the database lives when no URL is given: one place every command and the service agree on.

`$DATALEVER_DATABASE_URL` if set, else a SQLite file in the user's data folder (platformdirs:
`~/.local/share/datalever/datalever.db` on Linux, honouring `XDG_DATA_HOME`). Before, the default was
`sqlite:///datalever.db` relative to the current folder, so a command run elsewhere silently used another,
empty database.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

ENV_DATABASE_URL = "DATALEVER_DATABASE_URL"


def default_database_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("datalever", appauthor=False)) / "datalever.db"


def database_url(given: str | None = None) -> str:
    """`given`, else `$DATALEVER_DATABASE_URL`, else the SQLite file in the user data folder."""
    url = given or os.environ.get(ENV_DATABASE_URL) or f"sqlite:///{default_database_path()}"
    ensure_sqlite_folder(url)
    return url


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite file database, so the first command on a fresh machine works."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def display(url: str) -> str:
    """The URL as printed at start: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)
