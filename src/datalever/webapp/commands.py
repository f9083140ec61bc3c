"""`datalever web signin-code`: a one-time web sign-in code from the shell (for the first admin, or support).

Heavy modules are imported inside the command so `datalever --help` stays fast.
"""

from __future__ import annotations

import typer

from datalever.commandline import DATABASE_URL, database_url_or_default, errors, upgrade_or_exit

web_app = typer.Typer(name="web", help="The web app: sign-in codes.", no_args_is_help=True)


@web_app.command("signin-code")
def signin_code(
    role: str = typer.Option("member", "--role", help="member, operator or admin."),
    member: int | None = typer.Option(None, "--member", help="The member to sign in as (member codes)."),
    database_url: str | None = DATABASE_URL,
) -> None:
    """Print a one-time sign-in code (valid 15 minutes) and its link path."""
    from datalever.ledger.db import make_engine
    from datalever.ledger.errors import LedgerError
    from datalever.ledger.types import utcnow
    from datalever.webapp.sessions import create_code

    engine = make_engine(database_url_or_default(database_url))
    try:
        upgrade_or_exit(engine)
        with engine.begin() as conn:
            code, expires = create_code(conn, role, member, "cli", utcnow())
    except LedgerError as error:
        errors.print(f"error: {error.message}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    errors.print(f"one-time sign-in code for {role}, valid until {expires:%Y-%m-%d %H:%M} UTC:")
    print(code)
    print(f"/signin?code={code}")


def register(app: typer.Typer) -> None:
    app.add_typer(web_app)
