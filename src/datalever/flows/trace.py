"""Where does my data go: every path from a node to every model, with its effective share.

The effective share of a source in a model is the sum over paths of the product of edge shares along
each path. Where a source names a flow without a number, that edge counts as 0 in the lower bound and as
the unattributed rest of its target in the upper bound, so the answer is an interval, never a guess.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from datalever.flows.catalog import EdgeFlow, FlowCatalog, NodeKind, Relation


@dataclass(frozen=True)
class PathShare:
    nodes: tuple[str, ...]
    low: float
    high: float
    curated: bool
    unstated: tuple[tuple[str, str], ...]

    def as_dict(self, catalog: FlowCatalog) -> dict[str, Any]:
        steps = []
        for u, v in zip(self.nodes, self.nodes[1:], strict=False):
            edge = catalog.edges[(u, v)]
            steps.append(
                {
                    "from": u,
                    "to": v,
                    "share": edge.share,
                    "published_share": edge.published_share,
                    "epochs": edge.spec.epochs,
                    "relation": edge.spec.relation.value,
                    "citation": catalog.citation(edge.spec.cite),
                    "note": edge.spec.note,
                }
            )
        return {"nodes": list(self.nodes), "low": self.low, "high": self.high, "curated": self.curated, "steps": steps}


@dataclass(frozen=True)
class ModelShare:
    model: str
    name: str
    operator: str | None
    low: float
    high: float
    training_tokens: float | None
    paths: tuple[PathShare, ...]
    products: tuple[str, ...]

    @property
    def exact(self) -> bool:
        return abs(self.high - self.low) < 1e-12

    @property
    def tokens_low(self) -> float | None:
        return None if self.training_tokens is None else self.low * self.training_tokens

    @property
    def tokens_high(self) -> float | None:
        return None if self.training_tokens is None else self.high * self.training_tokens


@dataclass(frozen=True)
class TraceResult:
    node: str
    models: tuple[ModelShare, ...]

    def as_dict(self, catalog: FlowCatalog) -> dict[str, Any]:
        return {
            "node": self.node,
            "name": catalog.nodes[self.node].name,
            "models": [
                {
                    "model": m.model,
                    "name": m.name,
                    "operator": m.operator,
                    "share_low": m.low,
                    "share_high": m.high,
                    "exact": m.exact,
                    "training_tokens": m.training_tokens,
                    "tokens_low": m.tokens_low,
                    "tokens_high": m.tokens_high,
                    "products": list(m.products),
                    "paths": [p.as_dict(catalog) for p in m.paths],
                }
                for m in self.models
            ],
        }


def path_share(catalog: FlowCatalog, nodes: Sequence[str]) -> PathShare:
    """Low/high product of edge shares along one path."""
    low = high = 1.0
    curated = False
    unstated: list[tuple[str, str]] = []
    for u, v in itertools.pairwise(nodes):
        edge: EdgeFlow = catalog.edges[(u, v)]
        curated = curated or edge.spec.relation is Relation.CURATION
        if edge.share is None:
            unstated.append((u, v))
            low = 0.0
        else:
            low *= edge.share
        high *= catalog.upper_share(edge)
    return PathShare(tuple(nodes), low, high, curated, tuple(unstated))


def share_paths(catalog: FlowCatalog, source: str, target: str) -> list[PathShare]:
    """Every simple path from `source` to `target` (the graph is acyclic), with its share."""
    if source == target:
        return [PathShare((source,), 1.0, 1.0, False, ())]
    share_graph = catalog.graph.edge_subgraph(
        [(u, v) for u, v, rel in catalog.graph.edges(data="relation") if rel != Relation.SERVES.value]
    )
    if source not in share_graph or target not in share_graph:
        return []
    return [path_share(catalog, p) for p in nx.all_simple_paths(share_graph, source, target)]


def effective_share(catalog: FlowCatalog, source: str, target: str) -> tuple[float, float]:
    """(low, high) share of `target`'s tokens that come from `source`, summed over all paths."""
    paths = share_paths(catalog, source, target)
    return sum(p.low for p in paths), min(1.0, sum(p.high for p in paths))


def trace(catalog: FlowCatalog, node: str) -> TraceResult:
    """Every model reachable from `node`, with paths and effective shares, largest first."""
    catalog.node(node)
    results: list[ModelShare] = []
    for model in catalog.models():
        if model == node or not nx.has_path(catalog.graph, node, model):
            continue
        paths = share_paths(catalog, node, model)
        if not paths:
            continue
        spec = catalog.nodes[model]
        products = tuple(
            sorted(v for v in catalog.graph.successors(model) if catalog.nodes[v].kind is NodeKind.PRODUCT)
        )
        results.append(
            ModelShare(
                model=model,
                name=spec.name,
                operator=spec.operator,
                low=sum(p.low for p in paths),
                high=min(1.0, sum(p.high for p in paths)),
                training_tokens=spec.training_tokens,
                paths=tuple(sorted(paths, key=lambda p: -p.high)),
                products=products,
            )
        )
    results.sort(key=lambda m: (-m.high, m.model))
    return TraceResult(node=node, models=tuple(results))


def trace_subgraph(catalog: FlowCatalog, result: TraceResult) -> nx.DiGraph:
    """The nodes and edges on the traced paths (plus products), for drawing."""
    edges: set[tuple[str, str]] = set()
    for model in result.models:
        for path in model.paths:
            edges.update(zip(path.nodes, path.nodes[1:], strict=False))
        edges.update((model.model, p) for p in model.products)
    sub: nx.DiGraph = catalog.graph.edge_subgraph(edges).copy() if edges else nx.DiGraph()
    sub.add_node(result.node)
    return sub
