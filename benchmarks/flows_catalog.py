"""How long the flow tools take on the packaged catalog: load, every trace, every what-if (prints figures)."""

from __future__ import annotations

import time

from datalever.flows.catalog import NodeKind, load_catalog
from datalever.flows.trace import trace
from datalever.flows.whatif import WhatIfError, what_if


def main() -> None:
    start = time.perf_counter()
    catalog = load_catalog()
    loaded = time.perf_counter() - start
    sources = [n for n, spec in catalog.nodes.items() if spec.kind is not NodeKind.MODEL]

    start = time.perf_counter()
    pairs = [(node, model.model) for node in sources for model in trace(catalog, node).models]
    traced = time.perf_counter() - start

    start = time.perf_counter()
    done = 0
    for node, model in pairs:
        try:
            what_if(catalog, node, model)
            done += 1
        except WhatIfError:
            pass
    whatifs = time.perf_counter() - start

    print(f"catalog: {len(catalog.nodes)} nodes, {len(catalog.edges)} edges, loaded in {1000 * loaded:.1f} ms")
    print(f"traces: {len(sources)} nodes, {len(pairs)} node-model pairs in {1000 * traced:.1f} ms")
    print(f"what-ifs: {done} in {1000 * whatifs:.1f} ms ({1000 * whatifs / max(done, 1):.2f} ms each)")


if __name__ == "__main__":
    main()
