"""Trace shares and what-if values against hand-checked cases."""

from __future__ import annotations

import pytest

from datalever.flows.catalog import FlowFile, build_catalog, load_catalog
from datalever.flows.trace import effective_share, trace
from datalever.flows.whatif import WhatIfError, what_if


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.mark.parametrize(
    ("source", "model", "expected"),
    [
        ("stack-exchange", "llama-65b", 0.020),  # Touvron Table 1: 2.0%
        ("stack-exchange", "pythia-12b", 0.0513),  # Gao Table 1: 5.13%
        ("stack-exchange", "redpajama-incite-7b", 20 / 1210),  # 20B of 1,210B tokens
        ("stack-exchange", "olmo-1.7-7b", 19.6 / 1645.15),  # 19.6B of the sampled v1.7 mix
        ("wikipedia", "gpt-3-175b", 0.03 / 1.01),  # 3% of a table that sums to 101%
        ("wikipedia", "olmo-1.7-7b", 2 * 3.7 / 1645.15),  # sampled at 200%
        ("common-crawl", "llama-65b", 0.67 + 0.15),  # CCNet 67% plus C4 15%
        ("common-crawl", "gpt-3-175b", 0.60 / 1.01),
        ("reddit", "gpt-3-175b", 0.22 / 1.01),  # WebText2, selected by Reddit karma
        ("common-crawl", "falcon-40b", 0.75 + 0.07),  # RefinedWeb English + Europe
    ],
)
def test_trace_shares_match_hand_checked_cases(catalog, source, model, expected):
    low, high = effective_share(catalog, source, model)
    assert low == pytest.approx(expected, rel=1e-9)
    assert high == pytest.approx(expected, rel=1e-9)


def test_trace_lists_every_model_with_paths(catalog):
    result = trace(catalog, "stack-exchange")
    models = {m.model: m for m in result.models}
    assert set(models) == {
        "llama-7b",
        "llama-13b",
        "llama-33b",
        "llama-65b",
        "pythia-12b",
        "redpajama-incite-7b",
        "olmo-1.7-7b",
    }
    assert models["llama-65b"].paths[0].nodes == ("stack-exchange", "llama-stackexchange", "llama-1-mix", "llama-65b")
    assert models["llama-65b"].tokens_low == pytest.approx(0.02 * 1.4e12)
    assert [m.high for m in result.models] == sorted((m.high for m in result.models), reverse=True)


def test_unstated_flows_give_an_interval_not_a_guess(catalog):
    result = {m.model: m for m in trace(catalog, "stack-overflow").models}
    falcon = result["falcon-40b"]
    assert falcon.low == 0.0
    assert falcon.high == pytest.approx(0.05)  # at most the whole Conversations component
    assert not falcon.exact
    assert result["llama-65b"].high == pytest.approx(0.02)


def test_curated_paths_are_marked(catalog):
    gpt3 = {m.model: m for m in trace(catalog, "reddit").models}["gpt-3-175b"]
    assert all(path.curated for path in gpt3.paths)


def test_products_are_listed_downstream(catalog):
    gpt3 = {m.model: m for m in trace(catalog, "wikipedia").models}["gpt-3-175b"]
    assert gpt3.products == ("openai-api-2020",)


def toy(edges: list[tuple[str, float, float | None]], training_tokens: float = 1e11) -> object:
    nodes = [
        {
            "id": "m",
            "name": "M",
            "kind": "model",
            "parameters": 1e9,
            "training_tokens": training_tokens,
            "cite": {"source": "t", "where": "t"},
        }
    ]
    specs = []
    for name, share, epochs in edges:
        nodes.append({"id": name, "name": name.upper(), "kind": "platform"})
        edge = {"from": name, "to": "m", "share": share, "cite": {"source": "t", "where": "t"}}
        if epochs is not None:
            edge["epochs"] = epochs
        specs.append(edge)
    flows = FlowFile.model_validate({"sources": {"t": {"citation": "toy"}}, "nodes": nodes, "edges": specs})
    return build_catalog([("toy", flows)])


def test_what_if_single_pass_by_hand():
    catalog = toy([("a", 0.1, 1.0), ("b", 0.9, 1.0)])
    result = what_if(catalog, "a", "m")
    assert result.share == pytest.approx((0.1, 0.1))
    assert result.fewer_tokens == pytest.approx((0.1, 0.1))
    chinchilla, besiroglu = result.fits
    # D' 1e11 -> 9e10: 410.7 (9e10^-0.28 - 1e11^-0.28) = 0.351838 - 0.341605 = 0.010233
    assert chinchilla.not_replaced[0] == pytest.approx(0.010233, abs=2e-5)
    # Besiroglu: 1e11^0.3658 = 10^4.0238 = 10563.5 -> 0.197417; 9e10^0.3658 = 10^4.00706 = 10163.9 -> 0.205179
    assert besiroglu.not_replaced[0] == pytest.approx(0.007762, abs=2e-5)
    # Same budget: b drawn 1e11 over 9e10 unique, R = 1/9: x = 0.111111/15.387756 = 0.0072207,
    # 1 - e^-x = x - x^2/2 + x^3/6 = 0.0071947; D' = 9e10 (1 + 15.387756 x 0.0071947) = 9e10 x 1.110711
    # = 9.99640e10 -> 0.036% fewer
    assert result.fewer_tokens_same_budget[0] == pytest.approx(0.000360, abs=2e-6)
    assert chinchilla.same_budget[0] < chinchilla.not_replaced[0] / 20


def test_what_if_accounts_for_repeated_epochs():
    catalog = toy([("a", 0.5, 2.0), ("b", 0.5, 1.0)])
    result = what_if(catalog, "a", "m")
    # a: 5e10 seen over 2 epochs = 2.5e10 unique, D' = 2.5e10 x 1.968200 = 4.92050e10; b: 5e10.
    assert result.effective_tokens_before == pytest.approx(9.92050e10, rel=1e-5)
    # Withholding a removes 4.92050 / 9.92050 = 49.600% of the effective data, not the naive 50%.
    assert result.fewer_tokens[0] == pytest.approx(0.49600, abs=1e-5)
    assert result.share[0] == pytest.approx(0.5)


def test_what_if_on_the_catalog(catalog):
    result = what_if(catalog, "stack-exchange", "llama-65b")
    assert result.share == pytest.approx((0.02, 0.02))
    assert result.tokens[0] == pytest.approx(28e9)
    assert 0.0 < result.fits[0].not_replaced[0] < 0.01
    assert "AVERAGE loss" in result.caveat and "withheld domain" in result.caveat
    interval = what_if(catalog, "stack-overflow", "falcon-40b")
    assert interval.share[0] == 0.0 and interval.share[1] == pytest.approx(0.05)
    assert any("without a number" in note for note in interval.assumptions)
    assert any("one pass assumed" in note and "refinedweb -> falcon-40b" in note for note in interval.assumptions)


@pytest.mark.parametrize(
    ("withheld", "model", "message"),
    [
        ("stack-exchange", "gpt-5", "unknown node 'gpt-5'"),
        ("stack-exchange", "the-pile", "is a dataset, not a model"),
        ("wikipedai", "llama-7b", "unknown node 'wikipedai'"),
        ("github", "gpt-3-175b", "no flow from 'github' to 'gpt-3-175b'"),
        ("llama-1-mix", "llama-7b", "may supply all"),
    ],
)
def test_what_if_bad_input(catalog, withheld, model, message):
    with pytest.raises((WhatIfError, KeyError)) as error:
        what_if(catalog, withheld, model)
    assert message in str(error.value)
