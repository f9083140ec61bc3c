"""Collective valuation over the flows catalog: catalog numbers in, the pure rules of `economy.valuation` run.

For each community (a set of catalog nodes) and the policy's model: its share of the model's training
tokens from `flows trace` (low, high) and its effective tokens from `flows whatif` (low, high: the tokens
withheld, after Muennighoff's discount for repeated epochs). The loss methods then use the policy's
scaling-law fit. Every run returns its inputs with its result, so it can be stored and reproduced.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from datalever.economy import valuation as rules
from datalever.economy.pools import RangePoint, ValuationMethod, ValuationPolicy
from datalever.flows import scaling
from datalever.flows.catalog import CATALOG_RESOURCE, FlowCatalog, NodeKind, load_catalog, unknown_node_message
from datalever.flows.trace import effective_share
from datalever.flows.whatif import WhatIfError, what_if

FIT_NAMES = {"chinchilla": scaling.CHINCHILLA_2022, "besiroglu": scaling.BESIROGLU_2024}


class ValuationError(ValueError):
    """A valuation cannot be computed (unknown model or node, no community, no data left for the game)."""


@cache
def catalog() -> FlowCatalog:
    """The packaged flows catalog, validated once per process."""
    return load_catalog()


def catalog_version() -> str:
    """SHA-256 of the packaged catalog file: the catalog a stored run was computed on."""
    data = (resources.files("datalever.flows") / "data" / CATALOG_RESOURCE).read_bytes()
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class CommunityData:
    id: str
    nodes: tuple[str, ...]
    share: tuple[float, float]
    effective_tokens: tuple[float, float]


@dataclass(frozen=True)
class Valuation:
    method: ValuationMethod
    model: str
    fit: str
    range_point: RangePoint
    catalog_version: str
    effective_tokens_total: float
    communities: tuple[CommunityData, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    error_bound: tuple[float, ...] | None
    note: str

    def values(self) -> dict[str, float]:
        """The value of each community at the policy's point of its range (the split's weights)."""
        used = rules.pick(self.low, self.high, self.range_point)
        return {c.id: float(v) for c, v in zip(self.communities, np.atleast_1d(used), strict=True)}

    def inputs(self) -> dict[str, Any]:
        return {
            "method": self.method.value,
            "model": self.model,
            "fit": self.fit,
            "range_point": self.range_point.value,
            "catalog_version": self.catalog_version,
            "effective_tokens_total": self.effective_tokens_total,
            "communities": [
                {
                    "id": c.id,
                    "nodes": list(c.nodes),
                    "share_low": c.share[0],
                    "share_high": c.share[1],
                    "effective_tokens_low": c.effective_tokens[0],
                    "effective_tokens_high": c.effective_tokens[1],
                }
                for c in self.communities
            ],
        }

    def result(self) -> dict[str, Any]:
        values = self.values()
        total = sum(values.values())
        rows = []
        for i, c in enumerate(self.communities):
            row = {
                "community": c.id,
                "value_low": self.low[i],
                "value_high": self.high[i],
                "value": values[c.id],
                "weight": values[c.id] / total if total > 0 else 0.0,
            }
            if self.error_bound is not None:
                row["error_bound"] = self.error_bound[i]
            rows.append(row)
        return {"communities": rows, "range_point": self.range_point.value, "note": self.note}


def _model(catalog: FlowCatalog, model: str) -> None:
    spec = catalog.nodes.get(model)
    if spec is None or spec.kind is not NodeKind.MODEL:
        raise ValuationError(unknown_node_message(model, catalog.models()) + " (a valuation needs a catalog model)")


def community_data(catalog: FlowCatalog, model: str, community: str, nodes: tuple[str, ...]) -> CommunityData:
    """A community's share of `model`'s tokens and its effective tokens, summed over its nodes."""
    share_low = share_high = tokens_low = tokens_high = 0.0
    for node in nodes:
        if node not in catalog.nodes:
            raise ValuationError(f"community '{community}': {unknown_node_message(node, catalog.nodes)}")
        low, high = effective_share(catalog, node, model)
        share_low, share_high = share_low + low, share_high + high
        if high <= 0:
            continue
        try:
            result = what_if(catalog, node, model)
        except WhatIfError as error:
            raise ValuationError(f"community '{community}', node '{node}': {error}") from None
        tokens_low += result.effective_share[0] * result.effective_tokens_before
        tokens_high += result.effective_share[1] * result.effective_tokens_before
    return CommunityData(community, nodes, (min(share_low, 1.0), min(share_high, 1.0)), (tokens_low, tokens_high))


def _effective_total(catalog: FlowCatalog, model: str, communities: list[CommunityData]) -> float:
    for c in communities:
        for node in c.nodes:
            if effective_share(catalog, node, model)[1] > 0:
                return what_if(catalog, node, model).effective_tokens_before
    spec = catalog.nodes[model]
    return float(spec.training_tokens or 0.0)


def value_communities(
    catalog: FlowCatalog, communities: dict[str, tuple[str, ...]], policy: ValuationPolicy
) -> Valuation:
    """Value every community with the policy's method; inputs and result are returned together."""
    if not communities:
        raise ValuationError("no community has catalog nodes to value; tie communities to nodes first")
    _model(catalog, policy.model)
    data = [community_data(catalog, policy.model, cid, nodes) for cid, nodes in sorted(communities.items())]
    total = _effective_total(catalog, policy.model, data)
    fit = FIT_NAMES[policy.fit]
    bound: tuple[float, ...] | None = None
    note = ""
    if policy.method is ValuationMethod.TOKEN_SHARE:
        try:
            low = rules.token_share([c.share[0] for c in data])
            high = rules.token_share([c.share[1] for c in data])
        except ValueError as error:
            raise ValuationError(f"{error}; do the communities' nodes overlap?") from None
        note = "share of the model's training tokens (flows trace)"
    else:
        d_low = np.array([c.effective_tokens[0] for c in data])
        d_high = np.array([c.effective_tokens[1] for c in data])
        try:
            if policy.method is ValuationMethod.LEAVE_ONE_OUT:
                low = rules.leave_one_out(d_low, total, fit.B, fit.beta)
                high = rules.leave_one_out(d_high, total, fit.B, fit.beta)
                note = f"loss increase if the community alone withholds its data ({fit.name})"
            elif len(data) <= policy.shapley_exact_max:
                low = rules.shapley_exact(d_low, total, fit.B, fit.beta)
                high = rules.shapley_exact(d_high, total, fit.B, fit.beta)
                note = f"exact Shapley value of the loss-reduction game over {len(data)} communities ({fit.name})"
            else:
                args = (policy.shapley_samples, policy.shapley_confidence, policy.seed)
                sampled_low = rules.shapley_sampled(d_low, total, fit.B, fit.beta, *args)
                sampled_high = rules.shapley_sampled(d_high, total, fit.B, fit.beta, *args)
                low, high = sampled_low.values, sampled_high.values
                bound = tuple(float(b) for b in np.maximum(sampled_low.error_bound, sampled_high.error_bound))
                note = (
                    f"sampled Shapley value ({policy.shapley_samples} permutations, seed {policy.seed}); each value "
                    f"is within its error_bound with probability >= {policy.shapley_confidence} ({fit.name})"
                )
        except ValueError as error:
            raise ValuationError(str(error)) from None
        # Interval ends may cross for Shapley (a higher share elsewhere lowers a marginal): order them.
        low, high = np.minimum(low, high), np.maximum(low, high)
    return Valuation(
        method=policy.method,
        model=policy.model,
        fit=policy.fit,
        range_point=policy.range_point,
        catalog_version=catalog_version(),
        effective_tokens_total=total,
        communities=tuple(data),
        low=tuple(float(v) for v in low),
        high=tuple(float(v) for v in high),
        error_bound=bound,
        note=note,
    )
