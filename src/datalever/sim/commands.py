"""Commands of this part, mounted on the top-level `datalever` app by datalever.cli.

Import heavy modules inside the command functions so `datalever --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

DEFAULT_DATA = Path("../shared/data/stackoverflow-monthly-questions/questions_by_month_and_tag.csv")


def _fail(message: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def _check_out(out: Path) -> None:
    """Refuse an output folder that cannot be one before any work is done (not after a long run)."""
    if out.exists() and not out.is_dir():
        _fail(f"--out {out} is an existing file; give a folder (it is created if missing)")
    if any(parent.exists() and not parent.is_dir() for parent in out.parents):
        _fail(f"--out {out}: a parent of this folder is a file")


def register(app: typer.Typer) -> None:
    """Add this part's commands to the top-level app."""

    @app.command()
    def simulate(
        scenario: str = typer.Option("default", "--scenario", help="Built-in scenario name or a scenario TOML file."),
        policy: Path | None = typer.Option(
            None, "--policy", help="Credit policy file [default: policies/default.toml]."
        ),
        agents: int | None = typer.Option(None, "--agents", help="People simulated [default: from the scenario]."),
        weeks: int | None = typer.Option(None, "--weeks", help="Weekly steps [default: from the scenario]."),
        seed: int | None = typer.Option(None, "--seed", help="Random seed [default: from the scenario]."),
        out: Path = typer.Option(Path("sim-out"), "--out", help="Directory for report.html, PNGs, series, summary."),
    ) -> None:
        """Run the ecosystem model with and without the credit policy and report who gains."""
        import time

        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from datalever.economy import ConfigError, load_policy
        from datalever.sim.engine import run_simulations
        from datalever.sim.report import write_outputs
        from datalever.sim.scenario import load_scenario, with_overrides

        console = Console()
        _check_out(out)
        try:
            chosen = with_overrides(load_scenario(scenario), agents=agents, weeks=weeks, seed=seed)
            rules = load_policy(policy)
        except ConfigError as error:
            _fail(str(error))
            return
        started = time.perf_counter()
        with Progress(
            TextColumn("[bold]simulating[/] {task.description}"),
            BarColumn(),
            TextColumn("week {task.completed:.0f}/{task.total:.0f}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            task = progress.add_task(f"{chosen.name}: {chosen.run.agents:,} people", total=chosen.run.weeks)
            baseline, with_policy = run_simulations(
                chosen, [None, rules], ["baseline", "policy"], on_week=lambda _week: progress.advance(task)
            )
        simulated = time.perf_counter() - started
        summary = write_outputs(baseline, with_policy, out, policy_source=str(policy) if policy else "default")
        verdict = summary["verdict"]
        colour = "green" if verdict["positive_sum"] else "red"
        console.print(f"[{colour}]{verdict['text']}[/]", highlight=False)
        console.print(
            f"simulated in {simulated:.1f} s, report written in {time.perf_counter() - started - simulated:.1f} s: "
            f"{out / 'report.html'}",
            highlight=False,
        )

    @app.command()
    def calibrate(
        scenario: str = typer.Option("stackoverflow-2022", "--scenario", help="Scenario to calibrate."),
        data: Path | None = typer.Option(
            None,
            "--data",
            help=f"Stack Overflow questions_by_month_and_tag.csv [default: {DEFAULT_DATA} if present, else the "
            "monthly totals shipped in the package].",
        ),
        agents: int = typer.Option(20_000, "--agents", help="People simulated per evaluation (fewer: faster)."),
        seed: int | None = typer.Option(None, "--seed", help="Random seed [default: from the scenario]."),
        out: Path = typer.Option(Path("calibration-out"), "--out", help="Directory for calibration.json and plot."),
    ) -> None:
        """Fit the AI-substitution parameters so simulated questions track Stack Overflow's monthly counts."""
        from rich.console import Console
        from rich.table import Table

        from datalever.economy import ConfigError
        from datalever.sim.calibrate import CalibrationDataError, calibrate_scenario, load_observed, write_calibration
        from datalever.sim.scenario import load_scenario, with_overrides

        console = Console()
        try:
            chosen = with_overrides(load_scenario(scenario), agents=agents, seed=seed)
            source = data if data is not None else (DEFAULT_DATA if DEFAULT_DATA.exists() else None)
            observed = load_observed(source)
        except (ConfigError, CalibrationDataError) as error:
            _fail(str(error))
            return
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("fitting with scipy.optimize (Nelder-Mead)", total=None)

            best = [float("inf")]

            def show(evaluations: int, error: float) -> None:
                best[0] = min(best[0], error)
                bar.update(task, description=f"Nelder-Mead: {evaluations} simulations, best RMSE so far {best[0]:.4f}")

            fit = calibrate_scenario(chosen, observed, on_evaluation=show)
        paths = write_calibration(fit, out)
        console.print(f"calibrated {chosen.name} on {source or 'the packaged monthly totals (CC BY-SA 4.0)'}")
        table = Table()
        table.add_column("parameter")
        table.add_column("fitted", justify="right")
        for name, value in fit.parameters.items():
            table.add_row(name, f"{value:.4f}")
        console.print(table)
        console.print(
            f"fit error (RMSE of monthly questions, as share of the pre-release mean): {fit.rmse:.4f}; "
            f"observed drop {fit.observed_drop:+.1%}, simulated drop {fit.simulated_drop:+.1%}; "
            f"{fit.evaluations} evaluations",
            highlight=False,
        )
        console.print(f"wrote {', '.join(str(p) for p in paths)}", highlight=False)

    @app.command()
    def sweep(
        scenario: str = typer.Option("default", "--scenario", help="Built-in scenario name or a scenario TOML file."),
        policy: Path | None = typer.Option(
            None, "--policy", help="Credit policy file [default: policies/default.toml]."
        ),
        param: list[str] = typer.Option(
            [],
            "--param",
            help="[scenario:|policy:]section.key=low:high, repeatable [default: four key assumptions].",
        ),
        samples: int = typer.Option(8, "--samples", help="Sobol base samples N (a power of 2); runs = N x (k + 2)."),
        agents: int = typer.Option(5_000, "--agents", help="People per run."),
        weeks: int = typer.Option(156, "--weeks", help="Weeks per run."),
        seed: int | None = typer.Option(None, "--seed", help="Seed of every run and of the Sobol sample."),
        scheduler: str | None = typer.Option(
            None, "--scheduler", help="Dask scheduler address (tcp://host:8786) [default: a LocalCluster]."
        ),
        workers: int | None = typer.Option(None, "--workers", help="LocalCluster worker processes."),
        out: Path = typer.Option(Path("sweep-out"), "--out", help="Directory for sweep.parquet and sensitivity."),
    ) -> None:
        """Sweep parameters, run every point on Dask, and report Sobol sensitivity (SALib) of the verdict."""
        from rich.console import Console
        from rich.progress import Progress
        from rich.table import Table

        from datalever.economy import ConfigError, load_policy
        from datalever.sim.scenario import load_scenario, with_overrides
        from datalever.sim.sweep import (
            DEFAULT_PARAMETERS,
            analyze,
            parse_parameter,
            run_sweep,
            sample_points,
            write_sweep,
        )

        console = Console()
        try:
            chosen = with_overrides(load_scenario(scenario), agents=agents, weeks=weeks, seed=seed)
            rules = load_policy(policy)
            if samples < 2 or samples & (samples - 1):
                raise ConfigError("--samples", [f"must be a power of 2 (at least 2), got {samples}"])
            parameters = [parse_parameter(spec, chosen, rules) for spec in (param or DEFAULT_PARAMETERS)]
        except ConfigError as error:
            _fail(str(error))
            return
        points = sample_points(parameters, samples, chosen.run.seed)
        where = scheduler or f"a LocalCluster ({workers or 'default'} workers)"
        console.print(f"{len(points)} runs of {chosen.run.agents:,} people x {chosen.run.weeks} weeks on {where}")
        with Progress(console=console) as progress:
            task = progress.add_task("sweeping", total=len(points))
            rows = run_sweep(
                chosen,
                rules,
                points,
                scheduler=scheduler,
                workers=workers,
                on_done=lambda done: progress.update(task, completed=done),
            )
        indices = analyze(parameters, rows, chosen.run.seed)
        paths = write_sweep(parameters, rows, indices, out)
        table = Table(title="Total-order Sobol index (share of each outcome's variance)")
        table.add_column("parameter")
        for party in ("operator", "platform", "people"):
            table.add_column(party, justify="right")
        for p in parameters:
            table.add_row(
                p.name,
                *(f"{indices[f'{party}_change'][p.name]['ST']:.2f}" for party in ("operator", "platform", "people")),
            )
        console.print(table)
        share = sum(row["positive_sum"] for row in rows) / len(rows)
        console.print(f"positive-sum in {share:.0%} of the {len(rows)} runs; wrote {', '.join(map(str, paths))}")
