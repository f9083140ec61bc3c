"""What if a coalition withheld its data: the scaling-law estimate of the change in a model's loss.

The model's training tokens are decomposed into *atoms*: maximal paths from a source (or from the
unattributed rest of a node) down to the model, each with its share of the model's tokens and the number
of passes the model made over it. Repeated passes are worth less than fresh tokens (Muennighoff et al.
2023), so each atom contributes `share x D x value_per_token(passes)` effective tokens. Withholding a node
removes the atoms through it. Two scenarios:

* **not replaced**: the operator trains on the remaining tokens only;
* **same token budget**: the operator keeps D tokens by drawing the rest more often (more repetition).

Only the data term B / D'^beta of L(N, D) moves; results are shown for both published fits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from datalever.flows import scaling
from datalever.flows.catalog import FlowCatalog, NodeKind
from datalever.flows.trace import effective_share, share_paths

AVERAGE_LOSS_CAVEAT = (
    "This is the change in the model's AVERAGE loss over its whole training distribution. Loss on the "
    "withheld domain itself (questions like yours, text like yours) moves much more than the average, "
    "because the model loses most of what it saw of that domain; scaling laws fitted on whole corpora "
    "do not measure that domain-specific effect."
)


EPOCHS_NOTE = "no epoch count stated, one pass assumed: "


def summarise_notes(notes: set[str]) -> tuple[str, ...]:
    """One line for all the one-pass assumptions, then the other notes."""
    epochs = sorted(n.removeprefix(EPOCHS_NOTE) for n in notes if n.startswith(EPOCHS_NOTE))
    others = sorted(n for n in notes if not n.startswith(EPOCHS_NOTE))
    return ((EPOCHS_NOTE + ", ".join(epochs),) if epochs else ()) + tuple(others)


class WhatIfError(ValueError):
    """A what-if cannot be computed (unknown model, missing parameter count, no flow to the model)."""


@dataclass(frozen=True)
class Atom:
    path: tuple[str, ...]
    share: float
    passes: float


@dataclass(frozen=True)
class FitResult:
    fit: str
    citation: str
    baseline_loss: float
    not_replaced: tuple[float, float]
    same_budget: tuple[float, float]


@dataclass(frozen=True)
class WhatIf:
    model: str
    withheld: str
    parameters: float
    training_tokens: float
    share: tuple[float, float]
    tokens: tuple[float, float]
    effective_tokens_before: float
    effective_share: tuple[float, float]
    fewer_tokens: tuple[float, float]
    fewer_tokens_same_budget: tuple[float, float]
    fits: tuple[FitResult, ...]
    assumptions: tuple[str, ...] = field(default_factory=tuple)
    caveat: str = AVERAGE_LOSS_CAVEAT

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "withheld": self.withheld,
            "parameters": self.parameters,
            "training_tokens": self.training_tokens,
            "share_low": self.share[0],
            "share_high": self.share[1],
            "tokens_low": self.tokens[0],
            "tokens_high": self.tokens[1],
            "effective_tokens_before": self.effective_tokens_before,
            "effective_share_low": self.effective_share[0],
            "effective_share_high": self.effective_share[1],
            "as_if_fewer_tokens_low": self.fewer_tokens[0],
            "as_if_fewer_tokens_high": self.fewer_tokens[1],
            "as_if_fewer_tokens_same_budget_low": self.fewer_tokens_same_budget[0],
            "as_if_fewer_tokens_same_budget_high": self.fewer_tokens_same_budget[1],
            "fits": [
                {
                    "fit": f.fit,
                    "citation": f.citation,
                    "baseline_loss": f.baseline_loss,
                    "delta_loss_not_replaced_low": f.not_replaced[0],
                    "delta_loss_not_replaced_high": f.not_replaced[1],
                    "delta_loss_same_budget_low": f.same_budget[0],
                    "delta_loss_same_budget_high": f.same_budget[1],
                }
                for f in self.fits
            ],
            "assumptions": list(self.assumptions),
            "caveat": self.caveat,
        }


def _model_spec(catalog: FlowCatalog, model: str) -> tuple[float, float]:
    if model not in catalog.nodes:
        from datalever.flows.catalog import unknown_node_message

        raise WhatIfError(unknown_node_message(model, catalog.models()))
    spec = catalog.nodes[model]
    if spec.kind is not NodeKind.MODEL:
        raise WhatIfError(
            f"'{model}' is a {spec.kind.value}, not a model; choose one of: {', '.join(catalog.models())}"
        )
    if spec.parameters is None or spec.training_tokens is None:
        raise WhatIfError(f"model '{model}' has no parameter count or training tokens in the catalog")
    return spec.parameters, spec.training_tokens


def passes_along(catalog: FlowCatalog, path: tuple[str, ...], training_tokens: float, notes: set[str]) -> float:
    """Passes the model made over the top node of `path` (top -> ... -> model)."""
    passes = 1.0
    model = path[-1]
    for i in range(len(path) - 2, -1, -1):
        u, v = path[i], path[i + 1]
        edge = catalog.edges[(u, v)]
        spec = catalog.nodes[u]
        reference = spec.epochs_measured_at or catalog.mix_tokens.get(u)
        if edge.spec.epochs is not None:
            passes *= edge.spec.epochs
        elif reference is not None:
            drawn = effective_share(catalog, u, model)[0] * training_tokens
            passes = drawn / reference if drawn > 0 else passes
        elif v == model:
            notes.add(f"{EPOCHS_NOTE}{u} -> {model}")
    return passes


def atoms(catalog: FlowCatalog, model: str, notes: set[str] | None = None) -> list[Atom]:
    """Decompose the model's tokens into atoms whose shares sum to 1."""
    _, training_tokens = _model_spec(catalog, model)
    notes = set() if notes is None else notes
    found: list[Atom] = []

    def visit(node: str, path: tuple[str, ...], share: float) -> None:
        for edge in catalog.in_edges(node):
            if edge.share is not None and edge.share > 0:
                visit(edge.source, (edge.source, *path), share * edge.share)
        rest = share * catalog.remainder[node]
        if rest > 1e-15:
            found.append(Atom(path, rest, passes_along(catalog, path, training_tokens, notes)))

    visit(model, (model,), 1.0)
    return found


def _effective(atom_shares: list[tuple[Atom, float]], training_tokens: float, scale: float = 1.0) -> float:
    """Effective tokens of the given (atom, share) parts, with seen tokens and passes scaled by `scale`."""
    return sum(
        float(scaling.effective_tokens(share * training_tokens * scale, atom.passes * scale))
        for atom, share in atom_shares
        if share > 0
    )


def what_if(catalog: FlowCatalog, withheld: str, model: str) -> WhatIf:
    """Estimate the loss change of `model` if `withheld`'s tokens were not available."""
    parameters, training_tokens = _model_spec(catalog, model)
    catalog.node(withheld)
    if withheld == model:
        raise WhatIfError("withholding a model from itself is not a flow; choose a community, platform or dataset")
    notes: set[str] = set()
    parts = atoms(catalog, model, notes)
    paths = share_paths(catalog, withheld, model)
    if not paths:
        raise WhatIfError(f"no flow from '{withheld}' to '{model}' in the catalog; nothing to withhold")

    extra: dict[tuple[str, ...], float] = defaultdict(float)
    for path in paths:
        if path.unstated and path.high > 0:
            last_target = path.unstated[-1][1]
            extra[path.nodes[path.nodes.index(last_target) :]] += path.high
            notes.add(
                "some flows are named by their source without a number ("
                + ", ".join(f"{u} -> {v}" for u, v in path.unstated)
                + "); the high estimate assumes they fill all of their target's unattributed share"
            )

    low_removed: list[tuple[Atom, float]] = []
    high_removed: list[tuple[Atom, float]] = []
    low_kept: list[tuple[Atom, float]] = []
    high_kept: list[tuple[Atom, float]] = []
    for atom in parts:
        if withheld in atom.path:
            low_removed.append((atom, atom.share))
            high_removed.append((atom, atom.share))
            continue
        low_kept.append((atom, atom.share))
        taken = min(atom.share, extra.get(atom.path, 0.0))
        high_removed.append((atom, taken))
        high_kept.append((atom, atom.share - taken))

    before = _effective([(a, a.share) for a in parts], training_tokens)
    shares = (sum(s for _, s in low_removed), min(1.0, sum(s for _, s in high_removed)))
    if shares[1] >= 1.0 - 1e-12:
        raise WhatIfError(
            f"'{withheld}' may supply all of '{model}''s tokens; a scaling-law estimate needs some data left"
        )
    after_not_replaced = (
        _effective(low_kept, training_tokens),
        _effective(high_kept, training_tokens),
    )
    after_same_budget = (
        _effective(low_kept, training_tokens, 1.0 / (1.0 - shares[0])),
        _effective(high_kept, training_tokens, 1.0 / (1.0 - shares[1])),
    )
    fits = tuple(
        FitResult(
            fit=fit.name,
            citation=fit.citation,
            baseline_loss=float(scaling.loss(fit, parameters, before)),
            not_replaced=(
                float(scaling.loss_change(fit, before, after_not_replaced[0])),
                float(scaling.loss_change(fit, before, after_not_replaced[1])),
            ),
            same_budget=(
                float(scaling.loss_change(fit, before, after_same_budget[0])),
                float(scaling.loss_change(fit, before, after_same_budget[1])),
            ),
        )
        for fit in scaling.FITS
    )
    return WhatIf(
        model=model,
        withheld=withheld,
        parameters=parameters,
        training_tokens=training_tokens,
        share=shares,
        tokens=(shares[0] * training_tokens, shares[1] * training_tokens),
        effective_tokens_before=before,
        effective_share=(1.0 - after_not_replaced[0] / before, 1.0 - after_not_replaced[1] / before),
        fewer_tokens=(
            float(scaling.equivalent_fewer_tokens(before, after_not_replaced[0])),
            float(scaling.equivalent_fewer_tokens(before, after_not_replaced[1])),
        ),
        fewer_tokens_same_budget=(
            float(scaling.equivalent_fewer_tokens(before, after_same_budget[0])),
            float(scaling.equivalent_fewer_tokens(before, after_same_budget[1])),
        ),
        fits=fits,
        assumptions=summarise_notes(notes),
    )
