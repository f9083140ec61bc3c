"""Valuation over the flows catalog: hand-checked token shares, intervals, the sampled path, reproducibility."""

from __future__ import annotations

import pytest

from datalever.economy import valuation as rules
from datalever.economy.pools import RangePoint, ValuationMethod, ValuationPolicy
from datalever.flows.catalog import load_catalog
from datalever.pools.valuation import FIT_NAMES, ValuationError, catalog_version, value_communities

CATALOG = load_catalog()
COMMUNITIES = {"se": ("stack-exchange",), "so": ("stack-overflow",), "wiki": ("wikipedia",)}


def test_token_share_is_the_trace_share_with_its_interval() -> None:
    run = value_communities(CATALOG, COMMUNITIES, ValuationPolicy(method=ValuationMethod.TOKEN_SHARE))
    low = dict(zip([c.id for c in run.communities], run.low, strict=True))
    high = dict(zip([c.id for c in run.communities], run.high, strict=True))
    assert low["se"] == pytest.approx(0.02) and high["se"] == pytest.approx(0.02)  # LLaMA Table 1: 2.0%
    assert low["wiki"] == pytest.approx(0.045)  # 4.5%
    assert (low["so"], high["so"]) == (0.0, pytest.approx(0.02))  # SO's share of SE is not stated
    assert run.values()["so"] == pytest.approx(0.01)  # midpoint by default
    assert (
        value_communities(
            CATALOG, COMMUNITIES, ValuationPolicy(method=ValuationMethod.TOKEN_SHARE, range_point=RangePoint.LOW)
        ).values()["so"]
        == 0.0
    )


def test_a_stored_run_reproduces_from_its_inputs() -> None:
    run = value_communities(CATALOG, COMMUNITIES, ValuationPolicy())
    inputs = run.inputs()
    assert inputs["catalog_version"] == catalog_version() and len(inputs["catalog_version"]) == 64
    fit = FIT_NAMES[inputs["fit"]]
    d_high = [c["effective_tokens_high"] for c in inputs["communities"]]
    again = rules.shapley_exact(d_high, inputs["effective_tokens_total"], fit.B, fit.beta)
    assert list(again) == pytest.approx([r["value_high"] for r in run.result()["communities"]])


def test_beyond_the_exact_limit_shapley_is_sampled_with_a_bound() -> None:
    policy = ValuationPolicy(shapley_exact_max=2, shapley_samples=500, seed=3)
    run = value_communities(CATALOG, COMMUNITIES, policy)
    exact = value_communities(CATALOG, COMMUNITIES, ValuationPolicy())
    assert run.error_bound is not None and "sampled Shapley" in run.result()["note"]
    for sampled, true, bound in zip(run.high, exact.high, run.error_bound, strict=True):
        assert abs(sampled - true) <= bound
    assert all("error_bound" in row for row in run.result()["communities"])


def test_unknown_model_node_or_none_are_refused() -> None:
    with pytest.raises(ValuationError, match="did you mean 'llama-65b'"):
        value_communities(CATALOG, COMMUNITIES, ValuationPolicy(model="llama-66b"))
    with pytest.raises(ValuationError, match="community 'x'"):
        value_communities(CATALOG, {"x": ("nowhere",)}, ValuationPolicy())
    with pytest.raises(ValuationError, match="no community"):
        value_communities(CATALOG, {}, ValuationPolicy())
    overlapping = {"cc": ("common-crawl",), "c4": ("c4",), "web": ("common-crawl",)}
    with pytest.raises(ValuationError, match="overlap"):
        value_communities(CATALOG, overlapping, ValuationPolicy(method=ValuationMethod.TOKEN_SHARE))
