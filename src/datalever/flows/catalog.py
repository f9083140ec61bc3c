"""The flow catalog: who feeds which dataset and model, with published shares and their citations.

A flows file (TOML or JSON) is validated into `FlowFile`; the packaged catalog and any user files are merged
into one `FlowCatalog`, a networkx DiGraph whose edges carry the *normalised* share of the target's tokens.
Every bad input (malformed file, unknown node, shares over 100%, a cycle) raises `ConfigError` naming the
file and the problem, and nothing is built.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import networkx as nx
from pydantic import Field, HttpUrl, field_validator, model_validator

from datalever.documents import ConfigError, StrictModel, load_document, load_toml

NODE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
CATALOG_RESOURCE = "catalog.toml"
ROUNDING_SLACK = 1e-9
PositiveFloat = Annotated[float, Field(gt=0)]


class NodeKind(StrEnum):
    COMMUNITY = "community"
    PLATFORM = "platform"
    DATASET = "dataset"
    MODEL = "model"
    PRODUCT = "product"


class Relation(StrEnum):
    """`content`: the source's text is in the target; `curation`: the source selected it (Reddit karma);
    `serves`: a model powers a product (no share)."""

    CONTENT = "content"
    CURATION = "curation"
    SERVES = "serves"


class Source(StrictModel):
    citation: str = Field(min_length=3)
    url: HttpUrl | None = None


class Cite(StrictModel):
    source: str = Field(min_length=1)
    where: str = Field(min_length=1, description="Table, section or page that states the number.")


class NodeSpec(StrictModel):
    id: str
    name: str = Field(min_length=1)
    kind: NodeKind
    operator: str | None = None
    parameters: PositiveFloat | None = None
    training_tokens: PositiveFloat | None = None
    tokens: PositiveFloat | None = None
    share_rounding: float = Field(0.0, ge=0.0, le=0.05)
    epochs_measured_at: PositiveFloat | None = None
    note: str | None = None
    cite: Cite | None = None

    @field_validator("id")
    @classmethod
    def _id_format(cls, value: str) -> str:
        if not NODE_ID.match(value):
            raise ValueError("node ids are lower-case letters, digits, '.', '_' or '-' (e.g. 'stack-exchange')")
        return value

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> NodeSpec:
        if self.kind is not NodeKind.MODEL and (self.parameters is not None or self.training_tokens is not None):
            raise ValueError("only model nodes have parameters / training_tokens")
        if self.kind is not NodeKind.DATASET and self.epochs_measured_at is not None:
            raise ValueError("only dataset nodes have epochs_measured_at")
        has_number = any(v is not None for v in (self.parameters, self.training_tokens, self.tokens))
        if has_number and self.cite is None:
            raise ValueError("a number needs a citation: add cite = { source = ..., where = ... }")
        return self


class EdgeSpec(StrictModel):
    source: str = Field(alias="from")
    target: str = Field(alias="to")
    share: float | None = None
    tokens: PositiveFloat | None = None
    epochs: PositiveFloat | None = None
    relation: Relation = Relation.CONTENT
    note: str | None = None
    cite: Cite

    @field_validator("share")
    @classmethod
    def _share_is_fraction(cls, value: float | None) -> float | None:
        if value is not None and not 0.0 < value <= 1.0:
            raise ValueError(
                f"share must be a fraction of the target's tokens in (0, 1] (write 0.6 for 60%); got {value}"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> EdgeSpec:
        if self.share is not None and self.tokens is not None:
            raise ValueError("give either share or tokens, not both")
        if self.relation is Relation.SERVES and any(v is not None for v in (self.share, self.tokens, self.epochs)):
            raise ValueError("a 'serves' edge (model -> product) carries no share, tokens or epochs")
        if self.source == self.target:
            raise ValueError(f"edge from '{self.source}' to itself is a cycle")
        return self

    @property
    def stated(self) -> bool:
        return self.share is not None or self.tokens is not None


class FlowFile(StrictModel):
    version: Literal[1] = 1
    sources: dict[str, Source] = Field(default_factory=dict)
    nodes: list[NodeSpec] = Field(default_factory=list)
    edges: list[EdgeSpec] = Field(default_factory=list)


@dataclass(frozen=True)
class EdgeFlow:
    """One validated edge: `share` is the normalised share of the target's tokens (None if unstated)."""

    spec: EdgeSpec
    share: float | None
    published_share: float | None
    origin: str

    @property
    def source(self) -> str:
        return self.spec.source

    @property
    def target(self) -> str:
        return self.spec.target


@dataclass
class FlowCatalog:
    """The merged, validated flow graph. Read-only after construction."""

    nodes: dict[str, NodeSpec]
    edges: dict[tuple[str, str], EdgeFlow]
    sources: dict[str, Source]
    remainder: dict[str, float]
    mix_tokens: dict[str, float]
    origins: list[str] = field(default_factory=list)
    graph: nx.DiGraph = field(default_factory=nx.DiGraph)

    def node(self, node_id: str) -> NodeSpec:
        if node_id not in self.nodes:
            raise KeyError(unknown_node_message(node_id, self.nodes))
        return self.nodes[node_id]

    def in_edges(self, node_id: str) -> list[EdgeFlow]:
        return [self.edges[(u, node_id)] for u in self.graph.predecessors(node_id)]

    def upper_share(self, edge: EdgeFlow) -> float:
        """The share an edge can have at most: its stated share, or the unattributed rest of its target."""
        return edge.share if edge.share is not None else self.remainder[edge.target]

    def models(self) -> list[str]:
        return sorted(n for n, spec in self.nodes.items() if spec.kind is NodeKind.MODEL)

    def citation(self, cite: Cite | None) -> str:
        if cite is None:
            return "no citation"
        source = self.sources[cite.source]
        url = f" <{source.url}>" if source.url else ""
        return f"{source.citation}, {cite.where}{url}"


def unknown_node_message(node_id: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(node_id, list(known), n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown node '{node_id}'{hint}"


def read_flow_file(path: str | Path) -> FlowFile:
    """Validate one flows file (.toml or .json)."""
    return load_document(path, FlowFile)


def packaged_catalog() -> FlowFile:
    with resources.as_file(resources.files("datalever.flows") / "data" / CATALOG_RESOURCE) as path:
        return load_toml(path, FlowFile)


def load_catalog(extra: Sequence[str | Path] = (), *, include_packaged: bool = True) -> FlowCatalog:
    """The packaged catalog plus the user's flows files, validated as one graph."""
    files: list[tuple[str, FlowFile]] = []
    if include_packaged:
        files.append((f"datalever/flows/data/{CATALOG_RESOURCE}", packaged_catalog()))
    files.extend((str(path), read_flow_file(path)) for path in extra)
    return build_catalog(files)


def build_catalog(files: Sequence[tuple[str, FlowFile]]) -> FlowCatalog:
    """Merge flows files; raise ConfigError listing every problem (nothing is half-built)."""
    label = " + ".join(name for name, _ in files) or "(no flows files)"
    problems: list[str] = []
    sources: dict[str, Source] = {}
    nodes: dict[str, NodeSpec] = {}
    node_origin: dict[str, str] = {}
    specs: dict[tuple[str, str], tuple[EdgeSpec, str]] = {}
    for name, flow_file in files:
        for key, src in flow_file.sources.items():
            if key in sources and sources[key] != src:
                problems.append(f"{name}: source '{key}' is already defined differently")
            sources[key] = src
        for node in flow_file.nodes:
            if node.id in nodes:
                problems.append(f"{name}: node '{node.id}' is already defined in {node_origin[node.id]}")
                continue
            nodes[node.id] = node
            node_origin[node.id] = name
    for name, flow_file in files:
        for edge in flow_file.edges:
            for end in (edge.source, edge.target):
                if end not in nodes:
                    problems.append(f"{name}: edge {edge.source} -> {edge.target}: {unknown_node_message(end, nodes)}")
            if edge.cite.source not in sources:
                problems.append(
                    f"{name}: edge {edge.source} -> {edge.target}: unknown citation source '{edge.cite.source}'"
                )
            edge_key = (edge.source, edge.target)
            if edge_key in specs:
                problems.append(f"{name}: edge {edge.source} -> {edge.target} is defined twice")
            specs[edge_key] = (edge, name)
        for node in flow_file.nodes:
            if node.cite is not None and node.cite.source not in sources:
                problems.append(f"{name}: node '{node.id}': unknown citation source '{node.cite.source}'")
    if problems:
        raise ConfigError(label, problems)

    for (u, v), (edge, name) in specs.items():
        problems.extend(f"{name}: {p}" for p in _kind_problems(nodes[u], nodes[v], edge))
    graph: nx.DiGraph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(specs)
    try:
        cycle = nx.find_cycle(graph)
        loop = " -> ".join([str(u) for u, _ in cycle] + [str(cycle[0][0])])
        problems.append(f"the flows form a cycle: {loop}")
    except nx.NetworkXNoCycle:
        pass
    if problems:
        raise ConfigError(label, problems)

    edges, remainder, mix_tokens, share_problems = _normalise(nodes, specs)
    if share_problems:
        raise ConfigError(label, share_problems)
    for (u, v), flow in edges.items():
        graph.edges[u, v]["share"] = flow.share
        graph.edges[u, v]["relation"] = flow.spec.relation.value
    return FlowCatalog(
        nodes=nodes,
        edges=edges,
        sources=sources,
        remainder=remainder,
        mix_tokens=mix_tokens,
        origins=[name for name, _ in files],
        graph=graph,
    )


def _kind_problems(source: NodeSpec, target: NodeSpec, edge: EdgeSpec) -> list[str]:
    where = f"edge {source.id} -> {target.id}"
    if target.kind is NodeKind.COMMUNITY:
        return [f"{where}: communities are sources; nothing flows into '{target.id}'"]
    if source.kind is NodeKind.PRODUCT:
        return [f"{where}: products are end points; nothing flows out of '{source.id}'"]
    if target.kind is NodeKind.PRODUCT and (source.kind is not NodeKind.MODEL or edge.relation is not Relation.SERVES):
        return [f"{where}: only a model can feed a product, with relation = 'serves'"]
    if edge.relation is Relation.SERVES and target.kind is not NodeKind.PRODUCT:
        return [f"{where}: relation 'serves' is only for model -> product edges"]
    return []


def _normalise(
    nodes: dict[str, NodeSpec], specs: dict[tuple[str, str], tuple[EdgeSpec, str]]
) -> tuple[dict[tuple[str, str], EdgeFlow], dict[str, float], dict[str, float], list[str]]:
    """Turn published shares and token counts into shares of each target; refuse totals over 100%."""
    incoming: dict[str, list[tuple[EdgeSpec, str]]] = defaultdict(list)
    for (_, v), pair in specs.items():
        incoming[v].append(pair)
    edges: dict[tuple[str, str], EdgeFlow] = {}
    remainder: dict[str, float] = {n: 1.0 for n in nodes}
    mix_tokens: dict[str, float] = {}
    problems: list[str] = []
    for target_id, pairs in incoming.items():
        target = nodes[target_id]
        token_edges = [e for e, _ in pairs if e.tokens is not None]
        share_edges = [e for e, _ in pairs if e.share is not None]
        total_tokens = target.tokens
        if token_edges and share_edges and total_tokens is None:
            problems.append(
                f"node '{target_id}': its inputs mix shares and token counts; declare the node's total `tokens`"
            )
            continue
        effective = {e.source: (e.tokens or 0.0) * (e.epochs or 1.0) for e in token_edges}
        if token_edges:
            denominator = total_tokens if total_tokens is not None else sum(effective.values())
            mix_tokens[target_id] = denominator
        published: dict[str, float] = {e.source: e.share for e in share_edges if e.share is not None}
        for e in token_edges:
            published[e.source] = effective[e.source] / mix_tokens[target_id]
        stated = sum(published.values())
        tolerance = len(published) * target.share_rounding / 2 + ROUNDING_SLACK
        if stated > 1.0 + tolerance:
            listing = ", ".join(f"'{k}' {100 * v:.2f}%" for k, v in sorted(published.items(), key=lambda kv: -kv[1]))
            allowed = f"±{100 * target.share_rounding / 2:g}% rounding per input" if target.share_rounding else "none"
            problems.append(
                f"node '{target_id}': incoming shares add up to {100 * stated:.2f}%, over 100% "
                f"(rounding allowed: {allowed}): {listing}"
            )
            continue
        scale = 1.0 / stated if stated > 1.0 else 1.0
        remainder[target_id] = max(0.0, 1.0 - stated * scale)
        for edge, origin in pairs:
            raw = published.get(edge.source)
            edges[(edge.source, target_id)] = EdgeFlow(
                spec=edge,
                share=None if raw is None else raw * scale,
                published_share=raw,
                origin=origin,
            )
    return edges, remainder, mix_tokens, problems


def close_to(a: float, b: float, tol: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def describe(catalog: FlowCatalog) -> dict[str, Any]:
    """A JSON-ready summary (node and edge counts by kind) for `flows list`."""
    kinds: dict[str, int] = defaultdict(int)
    for spec in catalog.nodes.values():
        kinds[spec.kind.value] += 1
    return {"nodes": dict(kinds), "edges": len(catalog.edges), "files": catalog.origins}
