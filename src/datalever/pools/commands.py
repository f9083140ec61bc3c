"""`datalever valuation run` and `datalever pools ...`: the pools part's commands, on the service's database.

Heavy modules are imported inside the commands so `datalever --help` stays fast. Every refusal is one line
on stderr and exit code 2, with nothing changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from datalever.canonical import CanonicalError, parse_amount, parse_id
from datalever.commandline import DATABASE_URL, POLICY, errors, open_ledger, parse_month_option, policy_or_exit

if TYPE_CHECKING:
    from datalever.ledger.posting import Idempotency, Ledger

valuation_app = typer.Typer(
    name="valuation", help="Collective data valuation of the communities.", no_args_is_help=True
)
pools_app = typer.Typer(
    name="pools", help="Community pools: communities, funding, donations, proposals, votes.", no_args_is_help=True
)


KEY = typer.Option(None, "--key", help="Idempotency key: repeating the command with it has no second effect.")


def _fail(message: str) -> typer.Exit:
    from rich.text import Text

    errors.print(Text.assemble(("error: ", "bold red"), message), highlight=False)
    return typer.Exit(code=2)


@contextmanager
def _ledger(database_url: str | None, policy_file: Path | None) -> Iterator[Ledger]:
    """The ledger on the migrated database; a refusal becomes one clear line and exit status 2."""
    from datalever.ledger.errors import LedgerError

    ledger = open_ledger(database_url, policy_or_exit(policy_file))
    try:
        yield ledger
    except LedgerError as error:
        raise _fail(error.message) from None
    finally:
        ledger.engine.dispose()


def _idem(kind: str, key: str | None, *request: Any) -> Idempotency:
    import uuid

    from datalever.ledger.posting import Idempotency, request_hash

    return Idempotency("cli", f"{kind}:{key or uuid.uuid4()}", request_hash(kind, *request))


def _print(body: Any) -> None:
    typer.echo(json.dumps(body, indent=2, default=str))


# ---- valuation ------------------------------------------------------------------------------------
@valuation_app.command("run")
def valuation_run(
    month: str = typer.Option(
        ..., "--month", parser=parse_month_option, help="The month the valuation is for, YYYY-MM."
    ),
    method: str | None = typer.Option(None, "--method", help="token_share, leave_one_out or shapley [policy]."),
    model: str | None = typer.Option(None, "--model", help="Catalog model whose training data is valued [policy]."),
    out: Path = typer.Option(Path("valuation"), "--out", help="Directory for valuation-<month>.csv and .png."),
    key: str | None = KEY,
    database_url: str | None = DATABASE_URL,
    policy_file: Path | None = POLICY,
) -> None:
    """Value every community tied to catalog nodes; store the run with its inputs; write a CSV and a plot."""
    from rich.console import Console
    from rich.table import Table

    from datalever.flows.catalog import load_catalog
    from datalever.pools import operations, report

    with _ledger(database_url, policy_file) as ledger, Console().status(f"valuing communities for {month}..."):
        outcome = operations.run_valuation(
            ledger, _idem("valuation", key, month, method, model), load_catalog(), month, "cli", method, model
        )
    run = outcome.body
    try:
        out.mkdir(parents=True, exist_ok=True)
        csv_path, png_path = report.write_valuation(run, out)
    except OSError as error:
        raise _fail(f"{out}: cannot write the report ({error.strerror})") from None
    table = Table(title=f"Valuation {run['id']} for {month}: {run['inputs']['method']} on {run['inputs']['model']}")
    for column in ("community", "low", "high", "value", "weight"):
        table.add_column(column, justify="left" if column == "community" else "right")
    for row in run["result"]["communities"]:
        table.add_row(
            row["community"],
            f"{row['value_low']:.4g}",
            f"{row['value_high']:.4g}",
            f"{row['value']:.4g}",
            f"{row['weight']:.2%}",
        )
    console = Console()
    console.print(table)
    console.print(run["result"]["note"])
    console.print(f"catalog {run['inputs']['catalog_version'][:12]}; wrote {csv_path} and {png_path}")


# ---- pools ----------------------------------------------------------------------------------------
def _run(database_url: str | None, policy_file: Path | None, action: Callable[[Ledger], Any]) -> None:
    with _ledger(database_url, policy_file) as ledger:
        result = action(ledger)
    _print(result.body if hasattr(result, "body") else result)


@pools_app.command("community")
def put_community(
    community: str = typer.Argument(..., help="Community (coalition) id, e.g. bicycles-se."),
    node: list[str] = typer.Option(..., "--node", help="Catalog node of the community (repeatable)."),
    name: str | None = typer.Option(None, "--name"),
    platform: str | None = typer.Option(None, "--platform", help="stackexchange, github or wikipedia: join by link."),
    site: str | None = typer.Option(
        None, "--site", help="The platform site members link, e.g. bicycles.stackexchange.com."
    ),
    database_url: str | None = DATABASE_URL,
    policy_file: Path | None = POLICY,
) -> None:
    """Create or update a community with its catalog nodes; opens its pool account."""
    from datalever.flows.catalog import load_catalog
    from datalever.pools import operations

    if platform is not None and platform not in ("stackexchange", "github", "wikipedia"):
        raise _fail(f"--platform must be stackexchange, github or wikipedia; got {platform!r}")
    _run(
        database_url,
        policy_file,
        lambda ledger: operations.put_community(ledger, load_catalog(), community, name, node, platform, site, None)[1],
    )


@pools_app.command("add-member")
def add_member(
    community: str = typer.Argument(...),
    member: int = typer.Argument(..., min=1),
    database_url: str | None = DATABASE_URL,
    policy_file: Path | None = POLICY,
) -> None:
    """Add a member to a community (recorded as added by an admin, from the command line)."""
    from datalever.pools import operations

    _run(database_url, policy_file, lambda ledger: operations.join(ledger, community, member, True, "cli")[1])


@pools_app.command("show")
def show(
    community: str = typer.Argument(...),
    database_url: str | None = DATABASE_URL,
    policy_file: Path | None = POLICY,
) -> None:
    """A community's nodes, members, pool balance, fundings and proposals."""
    from datalever.pools import operations, storage

    def read(ledger: Ledger) -> Any:
        with ledger.engine.connect() as conn:
            body = operations.community_body(conn, community)
            body["proposals"] = [operations.proposal_body(conn, r.id) for r in storage.proposals(conn, community)]
            return body

    _run(database_url, policy_file, read)


@pools_app.command("fund")
def fund(
    month: str = typer.Option(
        ..., "--month", parser=parse_month_option, help="The ended month to fund, YYYY-MM (once, however often run)."
    ),
    database_url: str | None = DATABASE_URL,
    policy_file: Path | None = POLICY,
) -> None:
    """Fund the pools for a month from the policy's budget, split by the month's valuation."""
    from datalever.flows.catalog import load_catalog
    from datalever.pools import operations

    _run(database_url, policy_file, lambda ledger: operations.fund_month(ledger, load_catalog(), month, "cli"))


@pools_app.command("donate")
def donate(
    community: str = typer.Argument(...),
    member: int = typer.Option(..., "--member", min=1),
    amount: int = typer.Option(..., "--amount", min=1),
    key: str | None = KEY,
    database_url: str | None = DATABASE_URL,
    policy_file: Path | None = POLICY,
) -> None:
    """Donate a member's credits to a community's pool."""
    from datalever.pools import operations

    idem = _idem("donate", key, community, member, amount)
    _run(database_url, policy_file, lambda ledger: operations.donate(ledger, idem, community, member, amount))


@pools_app.command("propose")
def propose(
    community: str = typer.Argument(...),
    title: str = typer.Option(..., "--title"),
    preferences: Path | None = typer.Option(None, "--preferences", help="data-use: the new preferences (TOML/JSON)."),
    project: list[str] = typer.Option([], "--project", help="spending: 'title:cost:recipient member id' (repeat)."),
    budget: int | None = typer.Option(None, "--budget", min=1, help="spending: credits of the pool to allocate."),
    days: float | None = typer.Option(None, "--days", min=0.0001, help="Voting window in days [policy]."),
    key: str | None = KEY,
    database_url: str | None = DATABASE_URL,
    policy_file: Path | None = POLICY,
) -> None:
    """Open a data-use proposal (--preferences) or a pool-spending proposal (--project ... --budget)."""
    from datetime import timedelta

    from datalever.documents import ConfigError, load_document
    from datalever.flows.prefs import Preferences
    from datalever.ledger.types import utcnow
    from datalever.pools import operations

    if (preferences is None) == (not project):
        raise _fail("give either --preferences (a data-use proposal) or --project ... --budget (pool spending)")
    body: dict[str, Any] = {"title": title}
    if preferences is not None:
        try:
            prefs = load_document(preferences, Preferences)
        except ConfigError as error:
            raise _fail(str(error)) from None
        body.update(kind="data_use", preferences=prefs.model_dump(mode="json"))
    else:
        projects = []
        for text in project:
            parts = text.rsplit(":", 2)
            try:
                if len(parts) != 3:
                    raise CanonicalError("three parts")
                cost, recipient = parse_amount(parts[1]), parse_id(parts[2])
            except CanonicalError:
                raise _fail(f"--project must look like 'title:cost:recipient member id'; got {text!r}") from None
            projects.append({"title": parts[0], "cost": cost, "recipient_member_id": recipient})
        body.update(kind="spending", projects=projects, budget=budget)
    if days is not None:
        now = utcnow()
        body.update(opens_at=now, closes_at=now + timedelta(days=days))
    idem = _idem("propose", key, community, json.loads(json.dumps(body, default=str)))
    _run(database_url, policy_file, lambda ledger: operations.create_proposal(ledger, idem, community, body, "cli"))


@pools_app.command("vote")
def vote(
    proposal: int = typer.Argument(..., min=1),
    member: int = typer.Option(..., "--member", min=1),
    option: int = typer.Option(..., "--option", min=0, help="data-use: 1 for, 0 against; spending: the project."),
    votes: int = typer.Option(1, "--votes", min=1),
    key: str | None = KEY,
    database_url: str | None = DATABASE_URL,
    policy_file: Path | None = POLICY,
) -> None:
    """Buy votes on a proposal's option with a member's credits."""
    from datalever.pools import operations

    idem = _idem("vote", key, proposal, member, option, votes)
    _run(database_url, policy_file, lambda ledger: operations.vote(ledger, idem, proposal, member, option, votes))


@pools_app.command("tally")
def tally(
    proposal: int = typer.Argument(..., min=1),
    database_url: str | None = DATABASE_URL,
    policy_file: Path | None = POLICY,
) -> None:
    """Tally a proposal whose window has ended (once): adopt the data-use change or pay the projects."""
    from datalever.pools import operations

    _run(database_url, policy_file, lambda ledger: operations.tally(ledger, proposal, "cli"))


def register(app: typer.Typer) -> None:
    """Add this part's commands to the top-level app."""
    app.add_typer(valuation_app, name="valuation")
    app.add_typer(pools_app, name="pools")
