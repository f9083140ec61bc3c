"""Figures for the simulator's science: is the posterior and scenario discovery fast enough, and how far are the
reduced model and reduced populations from full ABM runs?

    .venv/bin/python benchmarks/sim_science.py              # everything (about 10-20 minutes on 2 cores)
    .venv/bin/python benchmarks/sim_science.py --skip-discover

Prints:
1. the SMC-ABC posterior on 14 Stack Overflow tags: simulations, wall time, posterior summary;
2. the reduced question-flow model against full ABM runs (100,000 people) at posterior draws: the AI's effect on
   questions posted per month (index against the same world without the AI), maximum absolute error;
3. `discover` with 2,000 samples x 3 seeds on a LocalCluster: wall time, runs per second;
4. reduced populations (2,000 people) against 20,000 people at discover samples: error of each party's gain per
   person-week and agreement of the "no worse off beyond seed noise" verdicts.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from datalever.documents import validate_mapping
from datalever.economy import load_policy
from datalever.sim.engine import run_simulations
from datalever.sim.flow import first_ai_month
from datalever.sim.posterior import fit_posterior, summary
from datalever.sim.scenario import Scenario, load_scenario
from datalever.sim.sodata import load_tags, month_number, month_text


def posterior_figures(particles: int, seeds: int) -> object:
    table = load_tags(None)
    started = time.perf_counter()
    post = fit_posterior(
        load_scenario("stackoverflow-2022"),
        table,
        cutoff=table.last,
        horizon=month_number("2025-12"),
        particles=particles,
        seeds=tuple(range(1, seeds + 1)),
    )
    elapsed = time.perf_counter() - started
    facts = summary(post)
    print(
        f"posterior: {post.simulations:,} simulations of the reduced model in {elapsed:.1f} s "
        f"({post.simulations / elapsed:,.0f}/s), {particles} particles x {seeds} seeds"
    )
    for key in ("adoption_weeks", "adoption_shape", "scenario_ai_affinity_mean", "long_run_ai_share_all"):
        lo, mid, hi = facts[key]
        print(f"  {key}: {mid:.3g} (90% {lo:.3g} to {hi:.3g})")
    for seed in facts["seeds"]:
        print(
            f"  seed {seed['seed']}: {seed['simulations']:,} simulations, {seed['stopped']}, "
            f"adoption weeks median {seed['adoption_weeks'][1]:.2f}, long-run share median "
            f"{seed['long_run_ai_share_all'][1]:.3f}"
        )
    return post


def _abm_index(scenario: Scenario, months: np.ndarray, agents: int) -> np.ndarray:
    """ABM questions posted per month with the AI divided by the same world without it (same seed)."""
    from datetime import timedelta

    data = scenario.model_dump()
    weeks = (month_number("2026-01") - month_number("2022-06")) * 31 // 7
    data["run"].update(agents=agents, weeks=weeks)
    with_ai = validate_mapping(data, Scenario, "benchmark")
    data["run"]["ai_launch_week"] = weeks
    without = validate_mapping(data, Scenario, "benchmark")
    (a,) = run_simulations(with_ai, [None], ["ai"], threads=1)
    (b,) = run_simulations(without, [None], ["none"], threads=1)
    sums_a: dict[int, float] = {}
    sums_b: dict[int, float] = {}
    for week in range(weeks):
        mid = scenario.run.start + timedelta(days=7 * week + 3)
        m = mid.year * 12 + mid.month - 1
        sums_a[m] = sums_a.get(m, 0.0) + float(a.series["questions_posted"][week])
        sums_b[m] = sums_b.get(m, 0.0) + float(b.series["questions_posted"][week])
    return np.array([sums_a[int(m)] / sums_b[int(m)] for m in months])


def reduced_model_error(post: object, draws: int, agents: int) -> None:
    from datalever.sim.posterior import Posterior

    assert isinstance(post, Posterior)
    months = np.arange(first_ai_month(), month_number("2025-12") + 1)
    rng = np.random.default_rng(5)
    pick = rng.choice(post.theta.shape[0], draws, replace=False)
    mean, spread = post.scenario_affinity()
    posted = post.posted(post.theta[pick])  # draws x tags x months
    errors_fit, errors_all, errors_single = [], [], []
    started = time.perf_counter()
    for i, p in enumerate(pick):
        data = post.scenario.model_dump()
        data["choice"].update(
            ai_affinity_mean=float(mean[p]),
            adoption_weeks=float(post.adoption_weeks[p]),
            adoption_shape=float(post.adoption_shape[p]),
        )
        data["people"]["ai_affinity_sd"] = float(spread[p])
        data["ai"]["capability_growth_sd_per_year"] = 0.0
        scenario = validate_mapping(data, Scenario, "benchmark")
        abm = _abm_index(scenario, months, agents)
        reduced = posted[i].T @ post.weights  # per-tag mixture, weighted
        single = post.path.posted(
            post.adoption_weeks[p : p + 1],
            post.adoption_shape[p : p + 1],
            mean[p : p + 1, None],
            float(spread[p]),
            np.ones(1),
        )[0, 0]
        fit = slice(0, 6)
        errors_fit.append(np.max(np.abs(abm[fit] - reduced[fit])))
        errors_all.append(np.max(np.abs(abm - reduced)))
        errors_single.append(np.max(np.abs(abm - single)))
    print(
        f"reduced model vs full ABM ({agents:,} people, {draws} posterior draws, "
        f"{time.perf_counter() - started:.0f} s):"
    )
    print(
        f"  index of questions posted (with AI / without), max abs error {month_text(first_ai_month())}-2023-05: "
        f"median {np.median(errors_fit):.4f}, worst {np.max(errors_fit):.4f}"
    )
    print(
        f"  same to 2025-12: median {np.median(errors_all):.4f}, worst {np.max(errors_all):.4f} "
        "(the reduced stock equation against the ABM's platform)"
    )
    print(
        f"  reduced model with the ABM's single normal affinity: median {np.median(errors_single):.4f} "
        "to 2025-12 (without the per-tag mixture approximation)"
    )


def discover_figures(samples: int, seeds: int, agents: int, workers: int | None) -> None:
    from datalever.sim.discover import DEFAULT_LEVERS, DEFAULT_WORLD, discover
    from datalever.sim.discover import summary as discovery_summary
    from datalever.sim.scenario import with_overrides
    from datalever.sim.sweep import parse_parameter

    scenario = with_overrides(load_scenario("default"), agents=agents, weeks=156)
    policy = load_policy()
    parameters = [parse_parameter(s, scenario, policy) for s in (*DEFAULT_LEVERS, *DEFAULT_WORLD)]
    started = time.perf_counter()
    result = discover(scenario, policy, parameters, samples=samples, seeds=[1, 2, 3][:seeds], workers=workers)
    elapsed = time.perf_counter() - started
    runs = 2 * samples * seeds
    facts = discovery_summary(result)
    print(
        f"discover: {samples:,} samples x {seeds} seeds = {runs:,} runs of {agents:,} people x 156 weeks in "
        f"{elapsed:.0f} s ({runs / elapsed:.1f} runs/s, {workers or os.cpu_count()} workers)"
    )
    print(
        f"  positive-sum beyond seed noise: {facts['positive_sum_share']:.1%}; no worse off: "
        + ", ".join(f"{k} {v:.0%}" for k, v in facts["no_worse_off_share"].items())
    )
    for box in facts["boxes"]:
        print(f"  box: {box['sentence']}")
    for who, party in facts["parties"].items():
        print(f"  {who}: {party['sentence']}")


def population_error(points: int, small: int, large: int) -> None:
    from datalever.sim.discover import DEFAULT_LEVERS, DEFAULT_WORLD, latin_hypercube, no_worse_off, run_sample
    from datalever.sim.scenario import with_overrides
    from datalever.sim.sweep import parse_parameter

    policy = load_policy()
    base = load_scenario("default")
    parameters = [parse_parameter(s, base, policy) for s in (*DEFAULT_LEVERS, *DEFAULT_WORLD)]
    values = latin_hypercube(parameters, points, seed=99)
    results = {}
    started = time.perf_counter()
    for agents in (small, large):
        scenario = with_overrides(base, agents=agents, weeks=156)
        results[agents] = [run_sample(v, scenario, policy, [1, 2, 3]) for v in values]
    keys = ("operator_cents", "platform_answers", "people_surplus_cents")
    print(
        f"reduced population: {small:,} vs {large:,} people at {points} discover samples x 3 seeds "
        f"({time.perf_counter() - started:.0f} s):"
    )
    for key in keys:
        scale = {"operator_cents": 1.0, "platform_answers": 1.0, "people_surplus_cents": 1.0}[key]
        per = {a: np.array([[r[f"{key}@{s}"] for s in (1, 2, 3)] for r in results[a]]).mean(axis=1) for a in results}
        if key != "people_surplus_cents":  # totals grow with the population: compare per person
            per = {a: v / a for a, v in per.items()}
        diff = np.abs(per[small] - per[large]) * scale
        spread = np.std(per[large])
        print(
            f"  {key} per person: median abs error {np.median(diff):.4g} (spread across samples {spread:.4g}; "
            f"sign agrees in {np.mean(np.sign(per[small]) == np.sign(per[large])):.0%})"
        )
    verdict = {a: no_worse_off(results[a], [1, 2, 3]) for a in results}
    agree = np.mean(verdict[small] == verdict[large], axis=0)
    print(
        "  'no worse off beyond seed noise' agrees: "
        + ", ".join(f"{k.split('_')[0]} {v:.0%}" for k, v in zip(keys, agree, strict=True))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--particles", type=int, default=1_000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--abm-draws", type=int, default=12)
    parser.add_argument("--abm-agents", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--population-points", type=int, default=12)
    parser.add_argument("--skip-discover", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    post = posterior_figures(args.particles, args.seeds)
    reduced_model_error(post, args.abm_draws, args.abm_agents)
    if not args.skip_discover:
        population_error(args.population_points, 2_000, 20_000)
        discover_figures(args.samples, 3, 2_000, args.workers)


if __name__ == "__main__":
    main()
