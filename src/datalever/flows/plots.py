"""Pictures: the traced flow subgraph, and the monthly alignment trend. matplotlib is imported lazily."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import networkx as nx

from datalever.flows.alignment import AlignmentReport
from datalever.flows.catalog import FlowCatalog, NodeKind
from datalever.flows.trace import TraceResult, trace_subgraph

KIND_COLOURS = {
    NodeKind.COMMUNITY: "#f4a261",
    NodeKind.PLATFORM: "#e9c46a",
    NodeKind.DATASET: "#a8dadc",
    NodeKind.MODEL: "#457b9d",
    NodeKind.PRODUCT: "#b5a1d6",
}
IMAGE_SUFFIXES = {".png", ".svg"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def check_image_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ValueError(f"image file must end in .png or .svg; got '{path.name}'")
    if not path.parent.exists():
        raise ValueError(f"folder '{path.parent}' does not exist")
    return path


def _pct(value: float) -> str:
    return f"{100 * value:.3g}%"


def layered_positions(graph: nx.DiGraph, sweeps: int = 4) -> dict[str, tuple[float, float]]:
    """Left-to-right layers (node attribute `layer`), ordered by the barycentre heuristic to cut crossings."""
    layers: dict[int, list[str]] = {}
    for node, data in sorted(graph.nodes(data=True)):
        layers.setdefault(data["layer"], []).append(node)
    order = {node: float(i) for members in layers.values() for i, node in enumerate(members)}
    keys = sorted(layers)
    for sweep in range(sweeps):
        forward = sweep % 2 == 0
        for key in keys if forward else reversed(keys):
            neighbours = graph.predecessors if forward else graph.successors

            def centre(node: str, neighbours: Any = neighbours) -> float:
                near = [order[n] for n in neighbours(node)]
                return sum(near) / len(near) if near else order[node]

            layers[key].sort(key=lambda n: (centre(n), n))
            for i, node in enumerate(layers[key]):
                order[node] = float(i)
    positions = {}
    for key, members in layers.items():
        for i, node in enumerate(members):
            positions[node] = (float(key), (len(members) - 1) / 2.0 - i)
    return positions


def draw_trace(catalog: FlowCatalog, result: TraceResult, path: str | Path) -> Path:
    """Left-to-right drawing of every path from the traced node to the models it reaches."""
    path = check_image_path(path)
    plt = _pyplot()
    sub = trace_subgraph(catalog, result)
    for layer, nodes in enumerate(nx.topological_generations(sub)):
        for node in nodes:
            sub.nodes[node]["layer"] = layer
    kinds = {n: catalog.nodes[n].kind for n in sub.nodes}
    model_layer = max((d["layer"] for n, d in sub.nodes(data=True) if kinds[n] is not NodeKind.PRODUCT), default=0)
    for node in sub.nodes:
        if kinds[node] is NodeKind.MODEL:
            sub.nodes[node]["layer"] = model_layer
        elif kinds[node] is NodeKind.PRODUCT:
            sub.nodes[node]["layer"] = model_layer + 1
    positions = layered_positions(sub)
    layers = max((d["layer"] for _, d in sub.nodes(data=True)), default=0) + 1
    tallest = max(sum(1 for _, d in sub.nodes(data=True) if d["layer"] == i) for i in range(layers))
    fig, ax = plt.subplots(figsize=(max(8.0, 3.4 * layers), max(4.5, 0.85 * tallest + 1.5)))
    shares = {m.model: m for m in result.models}
    widths = []
    styles = []
    for u, v in sub.edges:
        edge = catalog.edges[(u, v)]
        share = edge.share if edge.share is not None else catalog.upper_share(edge)
        widths.append(1.0 if edge.spec.relation.value == "serves" else 0.8 + 4.0 * share)
        styles.append("dashed" if edge.share is None or edge.spec.relation.value != "content" else "solid")
    nx.draw_networkx_edges(
        sub,
        positions,
        ax=ax,
        width=widths,
        style=styles,
        edge_color="#6c757d",
        arrows=True,
        arrowsize=12,
        node_size=4200,
        connectionstyle="arc3,rad=0.04",
    )
    edge_labels = {
        (u, v): (_pct(catalog.edges[(u, v)].share or 0.0) if catalog.edges[(u, v)].share is not None else "share n/s")
        for u, v in sub.edges
        if catalog.edges[(u, v)].spec.relation.value != "serves"
    }
    nx.draw_networkx_edge_labels(sub, positions, edge_labels=edge_labels, ax=ax, font_size=7, label_pos=0.35)
    for node, (x, y) in positions.items():
        spec = catalog.nodes[node]
        label = "\n".join(textwrap.wrap(spec.name, 20))
        if node in shares:
            model = shares[node]
            band = _pct(model.low) if model.exact else f"{_pct(model.low)} to {_pct(model.high)}"
            label += f"\n{band} of its tokens"
        ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=7.5,
            zorder=3,
            bbox={
                "boxstyle": "round,pad=0.4",
                "facecolor": KIND_COLOURS[spec.kind],
                "edgecolor": "#d62828" if node == result.node else "#343a40",
                "linewidth": 2.0 if node == result.node else 0.8,
            },
        )
    handles = [
        plt.Line2D([0], [0], marker="s", color="w", markerfacecolor=c, markersize=11, label=k.value)
        for k, c in KIND_COLOURS.items()
    ]
    handles.append(plt.Line2D([0], [0], color="#6c757d", linestyle="dashed", label="share not stated / curation"))
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, -0.12), ncol=6, fontsize=8, frameon=False)
    ax.set_title(
        f"Where {catalog.nodes[result.node].name}'s data goes: edge labels are shares of the next node's tokens",
        fontsize=11,
    )
    ax.axis("off")
    ax.margins(x=0.08, y=0.08)
    fig.tight_layout()
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return path


def draw_alignment(report: AlignmentReport, path: str | Path) -> Path:
    """Score per coalition over months, and the Gini / HHI across coalitions."""
    path = check_image_path(path)
    plt = _pyplot()
    months = list(report.months)
    x = range(len(months))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(7.0, 0.7 * len(months) + 4), 6.5), sharex=True)
    coalitions = sorted({s.coalition for s in report.scores})
    for coalition in coalitions:
        by_month = {s.month: s.score for s in report.scores if s.coalition == coalition}
        top.plot(x, [by_month.get(m, float("nan")) for m in months], marker="o", label=coalition)
    top.set_ylim(-0.02, 1.02)
    top.set_ylabel("share of members aligned")
    top.set_title(f"Plural alignment with {report.system}: aware, can reason and can act", fontsize=11)
    top.grid(alpha=0.3)
    top.legend(fontsize=8, ncol=3)
    gini = [c.gini if c.gini is not None else float("nan") for c in report.concentration]
    hhi = [c.hhi if c.hhi is not None else float("nan") for c in report.concentration]
    bottom.plot(x, gini, marker="s", color="#d62828", label="Gini of coalition scores")
    bottom.plot(x, hhi, marker="^", color="#1d3557", label="HHI of aligned members")
    bottom.set_ylim(-0.02, 1.02)
    bottom.set_ylabel("concentration")
    bottom.grid(alpha=0.3)
    bottom.legend(fontsize=8)
    bottom.set_xticks(list(x), months, rotation=45, ha="right")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
