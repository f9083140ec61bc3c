"""Properties of trace shares and what-ifs on random flow graphs (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datalever.flows.catalog import FlowFile, build_catalog
from datalever.flows.trace import effective_share
from datalever.flows.whatif import what_if


@st.composite
def layered_flows(draw):
    """Roots -> mid datasets -> one model; every node's inputs fully attributed (shares sum to 1)."""
    n_roots = draw(st.integers(2, 5))
    n_mid = draw(st.integers(1, 4))
    roots = [f"r{i}" for i in range(n_roots)]
    mids = [f"d{i}" for i in range(n_mid)]
    nodes = [{"id": r, "name": r, "kind": "platform"} for r in roots]
    nodes += [{"id": d, "name": d, "kind": "dataset"} for d in mids]
    nodes.append(
        {
            "id": "m",
            "name": "m",
            "kind": "model",
            "parameters": 1e9,
            "training_tokens": 1e11,
            "cite": {"source": "t", "where": "t"},
        }
    )
    edges = []

    def split(sources, target):
        weights = draw(st.lists(st.integers(1, 20), min_size=len(sources), max_size=len(sources)))
        epochs = draw(st.lists(st.sampled_from([0.5, 1.0, 2.0, 4.0]), min_size=len(sources), max_size=len(sources)))
        for source, weight, epoch in zip(sources, weights, epochs, strict=True):
            edges.append(
                {
                    "from": source,
                    "to": target,
                    "tokens": float(weight) * 1e9,
                    "epochs": epoch,
                    "cite": {"source": "t", "where": "t"},
                }
            )

    for d in mids:
        chosen = draw(st.lists(st.sampled_from(roots), min_size=1, max_size=n_roots, unique=True))
        split(chosen, d)
    split(mids, "m")
    flows = FlowFile.model_validate({"sources": {"t": {"citation": "toy"}}, "nodes": nodes, "edges": edges})
    return build_catalog([("toy", flows)]), roots, mids


@settings(max_examples=60, deadline=None)
@given(layered_flows())
def test_root_shares_sum_to_one(flows):
    catalog, roots, _ = flows
    used = [r for r in roots if catalog.graph.out_degree(r) > 0]
    assert sum(effective_share(catalog, r, "m")[0] for r in used) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(layered_flows())
def test_withholding_a_superset_costs_at_least_as_much(flows):
    """A root that only feeds one dataset supplies a subset of that dataset's atoms."""
    catalog, roots, _ = flows
    for root in roots:
        targets = list(catalog.graph.successors(root))
        if len(targets) != 1:
            continue
        mid = targets[0]
        if effective_share(catalog, mid, "m")[0] >= 1.0 - 1e-9:
            continue
        part, whole = what_if(catalog, root, "m"), what_if(catalog, mid, "m")
        assert part.share[0] <= whole.share[0] + 1e-12
        for p_fit, w_fit in zip(part.fits, whole.fits, strict=True):
            assert 0.0 <= p_fit.not_replaced[0] <= w_fit.not_replaced[0] + 1e-12
            assert p_fit.same_budget[0] <= p_fit.not_replaced[0] + 1e-12
