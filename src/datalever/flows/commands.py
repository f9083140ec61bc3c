"""Commands of this part, mounted on the top-level `datalever` app by datalever.cli.

`datalever flows trace|whatif|list|prefs` and `datalever align report`. Heavy modules (matplotlib) are
imported inside the command functions so `datalever --help` stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

flows_app = typer.Typer(
    help="Where contributors' data flows, what withholding it would do, and data-use preferences.",
    rich_markup_mode=None,
)
prefs_app = typer.Typer(
    help="A coalition's data-use preferences, exported as robots.txt, TDMRep or ai.txt.", rich_markup_mode=None
)
align_app = typer.Typer(help="The plural alignment score: aware, can reason, can act.", rich_markup_mode=None)
flows_app.add_typer(prefs_app, name="prefs")

out = Console()
err = Console(stderr=True)

FLOWS_OPTION = typer.Option(
    None, "--flows", help="Your own flows file (.toml or .json) added to the catalog; repeatable."
)


class ExportFormat(StrEnum):
    ROBOTS = "robots"
    TDMREP = "tdmrep"
    AITXT = "aitxt"


@contextmanager
def clear_errors() -> Iterator[None]:
    """Bad input: one clear message on stderr and exit code 2, nothing written."""
    from datalever.documents import ConfigError
    from datalever.flows.whatif import WhatIfError

    try:
        yield
    except (ConfigError, WhatIfError, ValueError) as error:
        err.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(2) from None
    except KeyError as error:
        err.print(f"[bold red]error:[/] {error.args[0]}", highlight=False)
        raise typer.Exit(2) from None


def _pct(value: float) -> str:
    return f"{100 * value:.4g}%"


def _tokens(value: float | None) -> str:
    if value is None:
        return "-"
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.4g}{unit}"
    return f"{value:.4g}"


@flows_app.command("list")
def list_catalog(
    flows: list[Path] | None = FLOWS_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """The catalog's models (with parameters and training tokens) and its sources of data."""
    from datalever.flows.catalog import NodeKind, load_catalog

    with clear_errors():
        catalog = load_catalog(flows or [])
    rows = [
        {
            "id": n.id,
            "name": n.name,
            "kind": n.kind.value,
            "operator": n.operator,
            "parameters": n.parameters,
            "training_tokens": n.training_tokens,
        }
        for n in sorted(catalog.nodes.values(), key=lambda n: (n.kind.value, n.id))
    ]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table(title="Flow catalog: models", title_justify="left")
    models = [node for node in catalog.nodes.values() if node.kind is NodeKind.MODEL]
    # Ids are what users copy into other commands: never cut or wrapped, whatever the terminal width.
    table.add_column("id", no_wrap=True, min_width=max((len(node.id) for node in models), default=2))
    for column in ("name", "operator", "parameters", "training tokens"):
        table.add_column(column)
    for node in catalog.nodes.values():
        if node.kind is NodeKind.MODEL:
            table.add_row(
                node.id, node.name, node.operator or "-", _tokens(node.parameters), _tokens(node.training_tokens)
            )
    out.print(table)
    sources = sorted(n.id for n in catalog.nodes.values() if n.kind in (NodeKind.COMMUNITY, NodeKind.PLATFORM))
    out.print(f"Communities and platforms: {', '.join(sources)}")


@flows_app.command("trace")
def trace_command(
    node: str = typer.Argument(..., help="A community, platform or dataset id (see `datalever flows list`)."),
    flows: list[Path] | None = FLOWS_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    image: Path | None = typer.Option(None, "--image", help="Also draw the subgraph to this .png or .svg file."),
) -> None:
    """Every path from NODE to every model, with NODE's effective share of the model's training tokens."""
    from datalever.flows.catalog import load_catalog
    from datalever.flows.trace import trace

    with clear_errors():
        if image is not None:
            from datalever.flows.plots import check_image_path

            check_image_path(image)
        catalog = load_catalog(flows or [])
        result = trace(catalog, node)
        if image is not None:
            from datalever.flows.plots import draw_trace

            draw_trace(catalog, result, image)
    if as_json:
        out.print_json(json.dumps(result.as_dict(catalog)))
        return
    name = catalog.nodes[node].name
    if not result.models:
        out.print(f"No model in the catalog draws on {name}.")
        return
    table = Table(title=f"Where {name}'s data goes", title_justify="left")
    for column in ("model", "operator", "share of training tokens", "tokens", "via"):
        table.add_column(column)
    for model in result.models:
        share = _pct(model.low) if model.exact else f"{_pct(model.low)} to {_pct(model.high)}"
        tokens = (
            _tokens(model.tokens_low) if model.exact else f"{_tokens(model.tokens_low)} to {_tokens(model.tokens_high)}"
        )
        via = "\n".join(
            " → ".join(p.nodes[1:-1])
            + (" (curation)" if p.curated else "")
            + (" (share not stated)" if p.unstated else "")
            for p in model.paths
        )
        table.add_row(model.name, model.operator or "-", share, tokens, via or "direct")
    out.print(table)
    if any(not m.exact for m in result.models):
        out.print("A range means a source names the flow without a number; the high end is an upper bound.")
    if image is not None:
        out.print(f"Picture written to {image}")


@flows_app.command("whatif")
def whatif_command(
    withhold: str = typer.Option(
        ..., "--withhold", help="The community, platform or dataset whose tokens are withheld."
    ),
    model: str = typer.Option(..., "--model", help="The model (see `datalever flows list`)."),
    flows: list[Path] | None = FLOWS_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Estimated change in MODEL's loss if WITHHOLD's tokens were withheld (two published scaling fits)."""
    from datalever.flows.catalog import load_catalog
    from datalever.flows.whatif import what_if

    with clear_errors():
        catalog = load_catalog(flows or [])
        result = what_if(catalog, withhold, model)
    if as_json:
        out.print_json(json.dumps(result.as_dict()))
        return

    def band(pair: tuple[float, float], fmt: Callable[[float], str]) -> str:
        return fmt(pair[0]) if abs(pair[1] - pair[0]) < 1e-15 else f"{fmt(pair[0])} to {fmt(pair[1])}"

    spec = catalog.nodes[model]
    out.print(
        f"[bold]{catalog.nodes[withhold].name}[/] supplies {band(result.share, _pct)} of "
        f"[bold]{spec.name}[/]'s {_tokens(result.training_tokens)} training tokens "
        f"({band(result.tokens, _tokens)}); {spec.name} has {_tokens(result.parameters)} parameters."
    )
    out.print(
        f"Withheld and not replaced: as if trained on {band(result.fewer_tokens, _pct)} fewer tokens "
        f"(effective tokens, counting repeated epochs at their reduced value)."
    )
    out.print(
        f"Withheld, same token budget (the rest repeated more): as if trained on "
        f"{band(result.fewer_tokens_same_budget, _pct)} fewer tokens."
    )
    table = Table(title="Change in average loss (nats per token)", title_justify="left")
    for column in ("fit", "baseline loss", "not replaced", "same token budget"):
        table.add_column(column)
    for fit in result.fits:
        table.add_row(
            fit.fit,
            f"{fit.baseline_loss:.4f}",
            band(fit.not_replaced, lambda v: f"+{v:.5f}"),
            band(fit.same_budget, lambda v: f"+{v:.6f}"),
        )
    out.print(table)
    out.print(f"[yellow]{result.caveat}[/]", highlight=False)
    for note in result.assumptions:
        out.print(f"  assumption: {note}", highlight=False)
    for fit in result.fits:
        out.print(f"  source: {fit.citation}", highlight=False)
    out.print("  source: Muennighoff et al. 2023, Scaling Data-Constrained Language Models, arXiv:2305.16264 (R*_D)")


@prefs_app.command("export")
def prefs_export(
    prefs: Path = typer.Option(..., "--prefs", help="The coalition's preferences file (.toml or .json)."),
    fmt: ExportFormat = typer.Option(..., "--format", help="robots (robots.txt), tdmrep (tdmrep.json) or aitxt."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Export data-use preferences in a format crawlers read."""
    from datalever.flows.prefs import EXPORTERS, load_preferences

    with clear_errors():
        text = EXPORTERS[fmt.value](load_preferences(prefs))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"Written {output}")


@prefs_app.command("check")
def prefs_check(
    prefs: Path = typer.Option(..., "--prefs", help="The coalition's preferences file (.toml or .json)."),
) -> None:
    """Show, for every known AI crawler, whether the preferences allow it and why."""
    from datalever.flows.prefs import load_preferences, resolve

    with clear_errors():
        verdicts = resolve(load_preferences(prefs))
    table = Table(title=f"AI crawlers under {prefs.name}", title_justify="left")
    for column in ("crawler", "operator", "allowed", "why"):
        table.add_column(column)
    for verdict in verdicts:
        table.add_row(verdict.token, verdict.operator, "yes" if verdict.allowed else "no", verdict.reason)
    out.print(table)


@align_app.command("report")
def align_report(
    inputs: Path | None = typer.Option(
        None, "--inputs", help="Alignment inputs file (.toml or .json): members, views, what-ifs."
    ),
    database: str | None = typer.Option(
        None,
        "--database-url",
        envvar="DATALEVER_DATABASE_URL",
        help="Score the service's stored records instead of a file (and store the monthly scores).",
    ),
    database_old: str | None = typer.Option(
        None, "--database", hidden=True, help="Deprecated spelling of --database-url."
    ),
    system: str = typer.Option(..., "--system", help="The AI system (model id) to score alignment with."),
    month: str | None = typer.Option(None, "--month", help="YYYY-MM: score this month (trend up to it)."),
    policy: Path | None = typer.Option(None, "--policy", help="Policy file with an [alignment] section."),
    plot: Path | None = typer.Option(None, "--plot", help="Draw the monthly trend to this .png or .svg file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Monthly alignment scores per coalition, and their concentration (Gini, HHI).

    From a file (`--inputs`), or from the service's database (`--database-url`, or DATALEVER_DATABASE_URL
    when no file is given): then the monthly scores are also stored, so the API serves the same trend.
    """
    from datalever.economy.policy import load_policy
    from datalever.flows import alignment

    if database_old is not None:
        err.print("warning: --database is deprecated; use --database-url", markup=False, highlight=False)
        database = database or database_old
    with clear_errors():
        if inputs is None and database is None:
            raise ValueError("give --inputs FILE or --database-url URL (or set DATALEVER_DATABASE_URL)")
        thresholds = load_policy(policy).alignment
        if plot is not None:
            from datalever.flows.plots import check_image_path

            check_image_path(plot)
        if month is not None:
            alignment.parse_month(month)
        if inputs is not None:
            data = alignment.read_inputs(inputs)
            _check_system(system, {w.system for w in data.whatifs})
            months = alignment.months_up_to(data, alignment.parse_month(month)) if month else None
            result = alignment.report(data, system, thresholds, months)
        else:
            assert database is not None
            result = _report_from_database(database, system, month, thresholds)
        if plot is not None:
            from datalever.flows.plots import draw_alignment

            draw_alignment(result, plot)
    _print_alignment(result.as_dict(), month, as_json)
    if plot is not None and not as_json:
        out.print(f"Trend written to {plot}")


def _check_system(system: str, in_inputs: set[str]) -> None:
    """A system is one the catalog names as a model or one the inputs' what-ifs are about."""
    from datalever.flows.catalog import load_catalog

    known = sorted(set(load_catalog().models()) | in_inputs)
    if system not in known:
        raise ValueError(f"unknown system '{system}'; known systems: {', '.join(known)} (see `datalever flows list`)")


def _report_from_database(url: str, system: str, month: str | None, thresholds: Any) -> Any:
    """Score every month the stored records cover (up to `month`) and store the scores."""
    from sqlalchemy import inspect

    from datalever.flows import alignment, store
    from datalever.ledger.db import make_engine
    from datalever.ledger.types import utcnow

    engine = make_engine(url)
    try:
        if not inspect(engine).has_table("flow_alignment_scores"):
            raise ValueError(f"{url}: no flows tables; run `datalever db upgrade` first")
        with engine.begin() as conn:
            data = store.alignment_inputs(conn)
            _check_system(system, {w.system for w in data.whatifs})
            months = alignment.months_up_to(data, alignment.parse_month(month)) if month else None
            result = alignment.report(data, system, thresholds, months)
            store.store_report(conn, result, thresholds, utcnow())
        return result
    finally:
        engine.dispose()


def _print_alignment(report: dict[str, Any], month: str | None, as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(report))
        return
    shown = [month] if month else report["months"]
    table = Table(title=f"Plural alignment with {report['system']}", title_justify="left")
    for column in ("month", "coalition", "members", "aware", "can reason", "agency", "aligned", "score"):
        table.add_column(column)
    for score in report["scores"]:
        if score["month"] in shown:
            table.add_row(
                score["month"],
                score["coalition"],
                str(score["members"]),
                str(score["aware"]),
                str(score["can_reason"]),
                str(score["agency"]),
                str(score["aligned"]),
                f"{score['score']:.1%}",
            )
    out.print(table)
    conc = Table(title="Across coalitions", title_justify="left")
    for column in ("month", "Gini of scores", "HHI of aligned members"):
        conc.add_column(column)
    for row in report["concentration"]:
        if row["month"] in shown:
            conc.add_row(
                row["month"],
                "-" if row["gini"] is None else f"{row['gini']:.3f}",
                "-" if row["hhi"] is None else f"{row['hhi']:.3f}",
            )
    out.print(conc)


def register(app: typer.Typer) -> None:
    """Add this part's commands to the top-level app."""
    app.add_typer(flows_app, name="flows")
    app.add_typer(align_app, name="align")
