"""Commands of this part, mounted on the top-level `datalever` app by datalever.cli.

Import heavy modules inside the command functions so `datalever --help` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer


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


def _check_counts(particles: int, seeds: int) -> None:
    from datalever.economy import ConfigError

    if not 50 <= particles <= 100_000:
        raise ConfigError("--particles", [f"must be between 50 and 100000, got {particles}"])
    if not 1 <= seeds <= 20:
        raise ConfigError("--seeds", [f"must be between 1 and 20, got {seeds}"])


class _abc_progress:
    """A Rich progress line for SMC-ABC runs: seed, generation, tolerance, simulations so far."""

    def __init__(self, console: Any) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
        )
        self.task = self.progress.add_task("SMC-ABC: preparing", total=None)
        self.total = 0

    def __enter__(self) -> Callable[[int, Any], None]:
        self.progress.start()

        def show(seed: int, generation: Any) -> None:
            self.progress.update(
                self.task,
                description=f"SMC-ABC seed {seed}: tolerance {generation.tolerance:.2f} (target: the noise model), "
                f"moves accepted {generation.acceptance:.0%}, {generation.simulations:,} simulations this seed",
            )

        return show

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


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
        replicates: int = typer.Option(
            2, "--replicates", help="Further seeds (seed+1, ...) run to show seed noise of the verdict (0: none)."
        ),
        conditions: Path | None = typer.Option(
            None, "--conditions", help="JSON boxes from `datalever discover` to lead the report with."
        ),
        forecast: Path | None = typer.Option(None, "--forecast", help="Fan chart PNG from `datalever forecast`."),
    ) -> None:
        """Run the ecosystem model with and without the credit policy and report who gains."""
        import time

        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from datalever.economy import ConfigError, load_policy
        from datalever.sim.engine import run_simulations
        from datalever.sim.outcomes import PairResult, party_deltas, run_pair
        from datalever.sim.report import (
            ReportExtras,
            expiry_sentence,
            load_conditions,
            replicate_sentence,
            write_outputs,
        )
        from datalever.sim.scenario import load_scenario, with_overrides

        console = Console()
        _check_out(out)
        try:
            chosen = with_overrides(load_scenario(scenario), agents=agents, weeks=weeks, seed=seed)
            rules = load_policy(policy)
            if not 0 <= replicates <= 100:
                raise ConfigError("--replicates", [f"must be between 0 and 100, got {replicates}"])
            if forecast is not None and (not forecast.is_file() or forecast.suffix.lower() != ".png"):
                raise ConfigError(str(forecast), ["--forecast must be an existing PNG file"])
            boxes = load_conditions(conditions) if conditions is not None else []
        except ConfigError as error:
            _fail(str(error))
            return
        except (OSError, ValueError) as error:
            _fail(f"--conditions: {error}")
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
            deltas = []
            if replicates:
                deltas.append(party_deltas(PairResult(baseline, with_policy)))
                seeds = progress.add_task(f"{replicates} more seeds for the seed noise", total=replicates)
                for k in range(1, replicates + 1):
                    deltas.append(party_deltas(run_pair(chosen, rules, seed=chosen.run.seed + k, threads=None)))
                    progress.advance(seeds)
        simulated = time.perf_counter() - started
        extras = ReportExtras(
            conditions=boxes,
            conditions_source=str(conditions) if conditions else "",
            forecast_fan=forecast,
            replicates=deltas,
        )
        with console.status(f"writing the report, plots and series to {out}"):
            summary = write_outputs(
                baseline, with_policy, out, policy_source=str(policy) if policy else "default", extras=extras
            )
        verdict = summary["verdict"]
        colour = "green" if verdict["positive_sum"] else "red"
        console.print(f"[{colour}]{verdict['text']}[/]", highlight=False)
        console.print(replicate_sentence(summary), highlight=False)
        console.print(expiry_sentence(summary["credits"]), highlight=False)
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
            help="Stack Overflow questions_by_month_and_tag.csv [default: the copy shipped in the package].",
        ),
        particles: int = typer.Option(1_000, "--particles", help="SMC-ABC particles per seed."),
        seeds: int = typer.Option(3, "--seeds", help="Independent SMC-ABC runs (seeds 1..N), pooled."),
        cutoff: str | None = typer.Option(None, "--cutoff", help="Last month used, YYYY-MM [default: all data]."),
        out: Path = typer.Option(Path("calibration-out"), "--out", help="Directory for the posterior and scenario."),
    ) -> None:
        """Fit AI substitution to all 14 Stack Overflow tag series (SMC-ABC) and write a fitted scenario file."""
        from rich.console import Console

        from datalever.economy import ConfigError
        from datalever.sim.calibrate import observed_table, parse_month, write_posterior
        from datalever.sim.flow import require_stackoverflow_calendar
        from datalever.sim.posterior import fit_posterior
        from datalever.sim.scenario import load_scenario
        from datalever.sim.sodata import CalibrationDataError

        console = Console()
        try:
            chosen = load_scenario(scenario)
            require_stackoverflow_calendar(chosen)
            _check_counts(particles, seeds)
            table = observed_table(data)
            last = parse_month(cutoff, "--cutoff") if cutoff else table.last
            table.column(last)
        except (ConfigError, CalibrationDataError) as error:
            _fail(str(error))
            return
        with _abc_progress(console) as show:
            post = fit_posterior(
                chosen,
                table,
                cutoff=last,
                horizon=last,
                particles=particles,
                seeds=tuple(range(1, seeds + 1)),
                on_generation=show,
            )
        facts, paths = write_posterior(post, out)
        _print_posterior(console, facts)
        console.print(f"wrote {', '.join(str(p) for p in paths)}", highlight=False)
        console.print(f"run it: datalever simulate --scenario {paths[2]}", highlight=False)

    @app.command()
    def forecast(
        scenario: str = typer.Option("stackoverflow-2022", "--scenario", help="Scenario to calibrate and forecast."),
        until: str = typer.Option("2025-12", "--until", help="Last month forecast, YYYY-MM."),
        data: Path | None = typer.Option(
            None,
            "--data",
            help="Stack Overflow questions_by_month_and_tag.csv [default: the copy shipped in the package].",
        ),
        particles: int = typer.Option(1_000, "--particles", help="SMC-ABC particles per seed."),
        seeds: int = typer.Option(3, "--seeds", help="Independent SMC-ABC runs (seeds 1..N), pooled."),
        backtest_cutoffs: str = typer.Option(
            "2021-11,2022-11,2023-02",
            "--backtest",
            help="Cut-off months of the backtest, comma-separated ('' for none).",
        ),
        capability_paths: int = typer.Option(
            16, "--capability-paths", help="AI capability trajectories drawn (ABM runs with different seeds)."
        ),
        out: Path = typer.Option(
            Path("forecast-out"), "--out", help="Directory for forecast.csv, fan chart, backtest."
        ),
    ) -> None:
        """Forecast questions per month for each tag and all tags, with intervals, and backtest against baselines."""
        import json

        import numpy as np
        from rich.console import Console
        from rich.table import Table

        from datalever.economy import ConfigError
        from datalever.sim.calibrate import observed_table, parse_month, write_posterior
        from datalever.sim.flow import require_stackoverflow_calendar
        from datalever.sim.forecast import backtest, fan_chart, write_csv
        from datalever.sim.forecast import forecast as make_forecast
        from datalever.sim.posterior import fit_posterior
        from datalever.sim.scenario import load_scenario
        from datalever.sim.sodata import CalibrationDataError, month_number, month_text

        console = Console()
        try:
            chosen = load_scenario(scenario)
            require_stackoverflow_calendar(chosen)
            _check_counts(particles, seeds)
            if not 1 <= capability_paths <= 256:
                raise CalibrationDataError(f"--capability-paths: must be between 1 and 256, got {capability_paths}")
            table = observed_table(data)
            horizon = parse_month(until, "--until")
            if horizon <= table.last:
                raise CalibrationDataError(
                    f"--until: {until} is not after the last observed month ({month_text(table.last)})"
                )
            if horizon > table.last + 120:
                raise CalibrationDataError(f"--until: {until} is more than ten years after the data; not a forecast")
            cutoffs = [parse_month(c.strip(), "--backtest") for c in backtest_cutoffs.split(",") if c.strip()]
            for c in cutoffs:
                if not month_number("2010-01") <= c < table.last:
                    raise CalibrationDataError(f"--backtest: {month_text(c)} must be before the last month of the data")
        except (ConfigError, CalibrationDataError) as error:
            _fail(str(error))
            return
        seed_list = tuple(range(1, seeds + 1))
        with _abc_progress(console) as show:
            post = fit_posterior(
                chosen,
                table,
                cutoff=table.last,
                horizon=horizon,
                particles=particles,
                seeds=seed_list,
                on_generation=show,
            )
            result = make_forecast(post, horizon, np.random.default_rng(2023), capability_paths=capability_paths)
            scores = backtest(
                chosen,
                table,
                cutoffs,
                particles=particles,
                seeds=seed_list,
                capability_paths=capability_paths,
                on_generation=show,
            )
        facts, paths = write_posterior(post, out)
        paths.append(write_csv(result, out / "forecast.csv"))
        paths.append(fan_chart(result, table, out / "fan.png", history_from=month_number("2019-01")))
        (out / "backtest.json").write_text(json.dumps(scores, indent=2) + "\n", encoding="utf-8")
        paths.append(out / "backtest.json")
        _print_posterior(console, facts)
        k = result.tags.index("all")
        q = result.quantiles[:, k, -1]
        console.print(
            f"[bold]{month_text(horizon)}, all 14 tags[/]: median {q[2]:,.0f} questions "
            f"(90% interval {q[0]:,.0f} to {q[4]:,.0f}); last observed {month_text(table.last)}: "
            f"{table.counts[:, -1].sum():,.0f}",
            highlight=False,
        )
        grid = Table(title="Backtest: mean absolute % error over the months after each cut-off (lower is better)")
        for column in ("cut-off", "months", "series", "model", "flat level", "log-linear trend", "90% coverage"):
            grid.add_column(column, justify="right")
        for row in scores:
            m = row["mape_percent"]
            for part, label in (("all", "all tags"), ("tags_mean", "each tag (mean)")):
                grid.add_row(
                    row["cutoff"] + (" (prior)" if row["prior_only"] and part == "all" else ""),
                    str(len(row["months"])) if part == "all" else "",
                    label,
                    *(f"{m[name][part]:.1f}" for name in ("model", "flat level", "log-linear trend")),
                    f"{row['coverage_90']['all' if part == 'all' else 'tags']:.0%}",
                )
        console.print(grid)
        console.print(f"wrote {', '.join(str(p) for p in paths)}", highlight=False)

    @app.command()
    def discover(
        scenario: str = typer.Option("default", "--scenario", help="Built-in scenario name or a scenario TOML file."),
        policy: Path | None = typer.Option(
            None, "--policy", help="Credit policy file [default: policies/default.toml]."
        ),
        lever: list[str] = typer.Option(
            [], "--lever", help="Policy lever policy:section.key=low:high, repeatable [default: four levers]."
        ),
        world: list[str] = typer.Option(
            [], "--world", help="Uncertain world parameter section.key=low:high, repeatable [default: seven]."
        ),
        samples: int = typer.Option(2_000, "--samples", help="Latin hypercube samples."),
        seeds: int = typer.Option(3, "--seeds", help="Replicate seeds per sample (seed noise)."),
        agents: int = typer.Option(2_000, "--agents", help="People per run."),
        weeks: int = typer.Option(156, "--weeks", help="Weeks per run."),
        threshold: float = typer.Option(0.8, "--threshold", help="PRIM: least density of a box."),
        scheduler: str | None = typer.Option(
            None, "--scheduler", help="Dask scheduler address (tcp://host:8786) [default: a LocalCluster]."
        ),
        workers: int | None = typer.Option(None, "--workers", help="LocalCluster worker processes."),
        out: Path = typer.Option(Path("discover-out"), "--out", help="Directory for boxes, conditions and plot."),
    ) -> None:
        """Find the policy levers and world conditions under which the policy is positive-sum (PRIM)."""
        from functools import partial

        from rich.console import Console
        from rich.progress import Progress

        from datalever.economy import ConfigError, load_policy
        from datalever.sim.cluster import ClusterError
        from datalever.sim.discover import DEFAULT_LEVERS, DEFAULT_WORLD, write_discovery
        from datalever.sim.discover import discover as find_conditions
        from datalever.sim.scenario import load_scenario, with_overrides
        from datalever.sim.sweep import parse_parameter

        console = Console()
        try:
            chosen = with_overrides(load_scenario(scenario), agents=agents, weeks=weeks)
            rules = load_policy(policy)
            if not 20 <= samples <= 1_000_000:
                raise ConfigError("--samples", [f"must be between 20 and 1000000, got {samples}"])
            if not 2 <= seeds <= 100:
                raise ConfigError("--seeds", [f"must be between 2 and 100 (seed noise needs replicates), got {seeds}"])
            if not 0.0 < threshold <= 1.0:
                raise ConfigError("--threshold", [f"must be in (0, 1], got {threshold}"])
            if chosen.run.ai_launch_week >= chosen.run.weeks:
                raise ConfigError(
                    "--weeks",
                    [
                        f"the AI launches in week {chosen.run.ai_launch_week}, after the last simulated week: "
                        "nothing for the policy to act on"
                    ],
                )
            specs = [*(lever or DEFAULT_LEVERS), *(world or DEFAULT_WORLD)]
            for spec in lever:
                if not spec.startswith("policy:"):
                    raise ConfigError(spec, ["a lever is a policy parameter: policy:section.key=low:high"])
            parameters = [parse_parameter(spec, chosen, rules) for spec in specs]
        except ConfigError as error:
            _fail(str(error))
            return
        seed_list = [chosen.run.seed + i for i in range(seeds)]
        where = scheduler or f"a LocalCluster ({workers or 'default'} workers)"
        console.print(
            f"{samples:,} samples x {seeds} seeds = {2 * samples * seeds:,} runs of {chosen.run.agents:,} people x "
            f"{chosen.run.weeks} weeks on {where}"
        )
        try:
            with Progress(console=console) as progress:
                task = progress.add_task("discovering", total=samples)
                result = find_conditions(
                    chosen,
                    rules,
                    parameters,
                    samples=samples,
                    seeds=seed_list,
                    scheduler=scheduler,
                    workers=workers,
                    threshold=threshold,
                    on_done=partial(_advance, progress, task),
                )
        except ClusterError as error:
            _fail(str(error))
            return
        facts, paths = write_discovery(result, out)
        console.print(
            f"positive-sum by more than seed noise in {facts['positive_sum_share']:.0%} of {facts['samples']:,} "
            f"samples ({facts['rule']})",
            highlight=False,
        )
        for i, box in enumerate(facts["boxes"], start=1):
            console.print(f"[bold]box {i}[/]: {box['sentence']}", highlight=False)
        if not facts["boxes"]:
            console.print(
                "no positive-sum region: too few samples were positive-sum by more than seed noise for PRIM; "
                "where each party alone is no worse off:",
                highlight=False,
            )
        for who, share in facts["no_worse_off_share"].items():
            party = facts["parties"].get(who)
            console.print(f"  {who}: {share:.0%} of samples. {party['sentence'] if party else ''}", highlight=False)
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
            help="[scenario:|policy:]section.key=low:high, repeatable [default: five key assumptions].",
        ),
        samples: int = typer.Option(64, "--samples", help="Sobol base samples N (a power of 2); runs = N x (k + 2)."),
        max_samples: int = typer.Option(
            512, "--max-samples", help="Double N up to this until every material index exceeds its interval."
        ),
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
            if max_samples < samples:
                raise ConfigError("--max-samples", [f"must be at least --samples ({samples}), got {max_samples}"])
            parameters = [parse_parameter(spec, chosen, rules) for spec in (param or DEFAULT_PARAMETERS)]
        except ConfigError as error:
            _fail(str(error))
            return
        from functools import partial

        from datalever.sim.cluster import ClusterError
        from datalever.sim.sweep import ci_check

        where = scheduler or f"a LocalCluster ({workers or 'default'} workers)"
        while True:
            points = sample_points(parameters, samples, chosen.run.seed)
            console.print(
                f"N = {samples}: {len(points)} runs (baseline and policy) of {chosen.run.agents:,} people x "
                f"{chosen.run.weeks} weeks on {where}"
            )
            try:
                with Progress(console=console) as progress:
                    task = progress.add_task("sweeping", total=len(points))
                    rows = run_sweep(
                        chosen,
                        rules,
                        points,
                        scheduler=scheduler,
                        workers=workers,
                        on_done=partial(_advance, progress, task),
                    )
            except ClusterError as error:
                _fail(str(error))
                return
            indices = analyze(parameters, rows, chosen.run.seed)
            checks = ci_check(parameters, indices)
            wide = [c for c in checks if not c["narrower"]]
            if not wide or samples * 2 > max_samples:
                break
            console.print(
                f"{len(wide)} of {len(checks)} material indices have a 95% interval wider than the index: "
                f"doubling N to {samples * 2} (--max-samples {max_samples})"
            )
            samples *= 2
        paths = write_sweep(parameters, rows, indices, out)
        labels = {"operator_cents": "operator", "platform_answers": "platform", "people_surplus_cents": "people"}
        table = Table(
            title="Sobol indices of each party's gain (absolute delta): S1 / ST, each +- its 95% half-interval"
        )
        table.add_column("parameter")
        for label in labels.values():
            table.add_column(label, justify="right")
        for p in parameters:
            table.add_row(
                p.name,
                *(
                    f"{indices[d][p.name]['S1']:.2f}+-{indices[d][p.name]['S1_conf']:.2f} / "
                    f"{indices[d][p.name]['ST']:.2f}+-{indices[d][p.name]['ST_conf']:.2f}"
                    for d in labels
                ),
            )
        console.print(table)
        verdict = "yes" if not wide else f"NO ({len(wide)} wider; raise --max-samples)"
        console.print(
            f"intervals narrower than every material index (>= 0.05): {verdict}; checked {len(checks)} indices "
            f"at N = {samples}",
            highlight=False,
        )
        share = sum(row["positive_sum"] for row in rows) / len(rows)
        console.print(f"positive-sum in {share:.0%} of the {len(rows)} runs; wrote {', '.join(map(str, paths))}")


def _advance(progress: Any, task: Any, done: int) -> None:
    progress.update(task, completed=done)


def _print_posterior(console: Any, facts: dict[str, Any]) -> None:
    """Posterior summary: median and 90% interval of the shared parameters and each tag's long-run AI share."""
    from rich.table import Table

    def q(values: list[float], fmt: str = "{:.3g}") -> str:
        return f"{fmt.format(values[1])} ({fmt.format(values[0])} to {fmt.format(values[2])})"

    table = Table(title=f"Posterior to {facts['cutoff']}: median (90% interval); {facts['simulations']:,} simulations")
    table.add_column("quantity")
    table.add_column("posterior", justify="right")
    table.add_row("adoption scale, weeks", q(facts["adoption_weeks"]))
    table.add_row("adoption shape (1 = exponential)", q(facts["adoption_shape"]))
    table.add_row("find-stock elasticity (prior 0.04-0.74)", q(facts["find_stock_elasticity"]))
    table.add_row("ABM ai_affinity_mean (mixture-matched)", q(facts["scenario_ai_affinity_mean"]))
    table.add_row("ABM ai_affinity_sd (mixture-matched)", q(facts["scenario_ai_affinity_sd"]))
    table.add_row("long-run AI share, all tags", q(facts["long_run_ai_share_all"], "{:.0%}"))
    for month, values in facts["ai_share_all"].items():
        table.add_row(f"AI share of questions, {month}", q(values, "{:.0%}"))
    for tag, values in facts["tags"].items():
        table.add_row(
            f"  {tag}: long-run AI share; trend/yr",
            q(values["long_run_ai_share"], "{:.0%}") + f"; {values['trend_per_year']:+.0%}",
        )
    console.print(table)
    for seed in facts["seeds"]:
        console.print(
            f"seed {seed['seed']}: {seed['simulations']:,} simulations, {seed['generations']} generations, "
            f"{seed['stopped']}; adoption weeks {q(seed['adoption_weeks'])}, long-run share "
            f"{q(seed['long_run_ai_share_all'], '{:.0%}')}",
            highlight=False,
        )
