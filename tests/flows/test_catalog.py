"""The packaged catalog: published mixes add up, every number is cited, bad flows files are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datalever.documents import ConfigError
from datalever.flows.catalog import NodeKind, load_catalog, packaged_catalog
from datalever.flows.whatif import atoms


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def published_sum(catalog, node: str) -> float:
    return sum(edge.published_share or 0.0 for edge in catalog.in_edges(node))


@pytest.mark.parametrize(
    ("node", "expected", "tolerance"),
    [
        # Brown et al. 2020 Table 2.2 rounds weights to whole percent: 60+22+8+8+3 = 101%.
        ("gpt-3-175b", 1.01, 5 * 0.005),
        # Touvron et al. 2023 Table 1: 67.0+15.0+4.5+4.5+4.5+2.5+2.0 = 100.0%.
        ("llama-1-mix", 1.0, 7 * 0.0005),
        # Gao et al. 2020 Table 1: 22 weights to two decimals sum to 100.00%.
        ("the-pile", 1.0, 22 * 0.00005),
        # Falcon-40B card: 75+7+6+5+5+2 = 100%.
        ("falcon-40b", 1.0, 6 * 0.005),
    ],
)
def test_published_shares_add_up_within_the_sources_rounding(catalog, node, expected, tolerance):
    total = published_sum(catalog, node)
    assert total == pytest.approx(expected, abs=1e-9)
    assert abs(total - 1.0) <= tolerance + 1e-9
    assert sum(edge.share for edge in catalog.in_edges(node)) == pytest.approx(1.0)


def test_token_count_mixes_match_the_stated_totals(catalog):
    redpajama = sum(edge.spec.tokens for edge in catalog.in_edges("redpajama-1t"))
    assert redpajama == pytest.approx(1210e9)  # card: "1.2 Trillion", rounded to 0.1T
    assert abs(redpajama - 1.2e12) <= 0.05e12
    dolma_v1 = sum(edge.spec.tokens for edge in catalog.in_edges("dolma-v1"))
    assert dolma_v1 == pytest.approx(3085.4e9)  # card total 3,084 with rows rounded
    assert abs(dolma_v1 - 3084e9) <= 6 * 0.5e9
    dolma_raw = sum(edge.spec.tokens for edge in catalog.in_edges("dolma-v1.7"))
    assert dolma_raw == pytest.approx(2308.4e9)  # card total 2,308.5 with rows rounded to 0.1B
    assert catalog.mix_tokens["dolma-v1.7"] == pytest.approx(1645.15e9)  # after sample proportions


def test_every_model_decomposes_into_atoms_summing_to_one(catalog):
    for model in catalog.models():
        assert sum(atom.share for atom in atoms(catalog, model)) == pytest.approx(1.0), model


def test_every_number_has_a_citation_to_a_known_source(catalog):
    for edge in catalog.edges.values():
        assert edge.spec.cite.source in catalog.sources
        assert edge.spec.cite.where.strip()
    for node in catalog.nodes.values():
        if node.parameters or node.training_tokens or node.tokens:
            assert node.cite is not None and node.cite.source in catalog.sources, node.id
    assert all(source.url is not None for source in catalog.sources.values())


def test_catalog_covers_the_required_models_and_platforms(catalog):
    models = set(catalog.models())
    assert {"gpt-3-175b", "llama-7b", "llama-65b", "falcon-40b", "pythia-12b", "olmo-1.7-7b"} <= models
    for dataset in ("the-pile", "redpajama-1t", "dolma-v1", "dolma-v1.7"):
        assert catalog.nodes[dataset].kind is NodeKind.DATASET
    for platform in ("stack-exchange", "wikipedia", "github", "arxiv", "reddit", "common-crawl"):
        assert catalog.graph.out_degree(platform) > 0
    assert catalog.edges[("reddit", "webtext2")].spec.relation.value == "curation"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


CITE = 'cite = { source = "mine", where = "x" }\n'
USER_SOURCE = """
[sources.mine]
citation = "Our own count from the Stack Exchange data dump"
url = "https://archive.org/details/stackexchange"
"""


def test_user_flows_extend_the_catalog(tmp_path):
    path = write(
        tmp_path,
        "bikes.toml",
        USER_SOURCE
        + """
[[nodes]]
id = "bicycles-se"
name = "Bicycles Stack Exchange"
kind = "community"

[[edges]]
from = "bicycles-se"
to = "stack-exchange"
share = 0.001
cite = { source = "mine", where = "Posts.xml size / total dump size" }
""",
    )
    catalog = load_catalog([path])
    assert catalog.edges[("bicycles-se", "stack-exchange")].share == pytest.approx(0.001)
    assert catalog.remainder["stack-exchange"] == pytest.approx(0.999)


BAD_FILES = {
    "share-as-percent": (
        USER_SOURCE + '[[edges]]\nfrom = "wikipedia"\nto = "c4"\nshare = 60\ncite = { source = "mine", where = "x" }\n',
        "share must be a fraction",
    ),
    "over-100": (
        USER_SOURCE
        + '[[nodes]]\nid = "mix"\nname = "Mix"\nkind = "dataset"\n'
        + '[[edges]]\nfrom = "wikipedia"\nto = "mix"\nshare = 0.7\ncite = { source = "mine", where = "x" }\n'
        + '[[edges]]\nfrom = "github"\nto = "mix"\nshare = 0.4\ncite = { source = "mine", where = "x" }\n',
        "add up to 110.00%, over 100%",
    ),
    "unknown-node": (
        USER_SOURCE + '[[edges]]\nfrom = "wikipedai"\nto = "c4"\nshare = 0.1\n' + CITE,
        "unknown node 'wikipedai'; did you mean 'wikipedia'",
    ),
    "cycle": (
        USER_SOURCE + '[[edges]]\nfrom = "llama-7b"\nto = "common-crawl"\nshare = 0.1\n' + CITE,
        "cycle",
    ),
    "self-loop": (
        USER_SOURCE + '[[edges]]\nfrom = "c4"\nto = "c4"\nshare = 0.1\ncite = { source = "mine", where = "x" }\n',
        "to itself is a cycle",
    ),
    "duplicate-node": (
        USER_SOURCE + '[[nodes]]\nid = "wikipedia"\nname = "Wiki"\nkind = "platform"\n',
        "already defined",
    ),
    "uncited-number": (
        '[[nodes]]\nid = "m"\nname = "M"\nkind = "model"\nparameters = 1e9\ntraining_tokens = 1e10\n',
        "needs a citation",
    ),
    "unknown-citation": (
        '[[edges]]\nfrom = "wikipedia"\nto = "c4"\nshare = 0.1\ncite = { source = "nobody", where = "x" }\n',
        "unknown citation source 'nobody'",
    ),
    "unknown-key": ('[[nodes]]\nid = "x"\nname = "X"\nkind = "dataset"\nsize = 3\n', "nodes.0.size: unknown key"),
    "bad-kind": ('[[nodes]]\nid = "x"\nname = "X"\nkind = "forum"\n', "nodes.0.kind"),
    "malformed-toml": ("[[nodes]\nid = ", "not valid TOML"),
    "into-community": (
        USER_SOURCE + '[[edges]]\nfrom = "wikipedia"\nto = "stack-overflow"\nshare = 0.1\n' + CITE,
        "communities are sources",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_flows_files_are_refused_with_a_clear_message(tmp_path, case):
    text, message = BAD_FILES[case]
    path = write(tmp_path, f"{case}.toml", text)
    with pytest.raises(ConfigError) as error:
        load_catalog([path])
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_malformed_json_is_refused(tmp_path):
    path = write(tmp_path, "flows.json", '{"nodes": [')
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_catalog([path])
    path = write(tmp_path, "list.json", "[1, 2]")
    with pytest.raises(ConfigError, match="top level must be an object"):
        load_catalog([path])


def test_json_flows_files_work_like_toml(tmp_path):
    flows = {
        "sources": {"mine": {"citation": "own count", "url": "https://example.org/count"}},
        "nodes": [{"id": "my-wiki-project", "name": "WikiProject Cycling", "kind": "community"}],
        "edges": [
            {"from": "my-wiki-project", "to": "wikipedia", "share": 0.0002, "cite": {"source": "mine", "where": "x"}}
        ],
    }
    path = write(tmp_path, "flows.json", json.dumps(flows))
    assert load_catalog([path]).edges[("my-wiki-project", "wikipedia")].share == pytest.approx(0.0002)


def test_a_refused_file_changes_nothing(tmp_path):
    before = load_catalog()
    path = write(tmp_path, "bad.toml", BAD_FILES["over-100"][0])
    with pytest.raises(ConfigError):
        load_catalog([path])
    after = load_catalog()
    assert set(after.nodes) == set(before.nodes) and set(after.edges) == set(before.edges)
    assert "mix" not in after.nodes
    assert packaged_catalog().version == 1
