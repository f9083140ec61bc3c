"""Monthly plural-alignment scores from alignment inputs (a file, or records kept by the service).

Inputs say who belongs to which coalition, when each member opened their flow report, which what-ifs
exist for which system, and what it costs to change the coalition's flow. Each month is scored at its last
day with the pure rules in `datalever.economy.alignment`.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from datalever import canonical
from datalever.documents import StrictModel, load_document
from datalever.economy import alignment as rules
from datalever.economy.alignment import AlignmentPolicy


class CoalitionInput(StrictModel):
    id: str = Field(min_length=1)
    name: str | None = None
    change_cost: int | None = Field(None, ge=0, description="Credits for a member to change the flow.")


class MemberInput(StrictModel):
    id: str = Field(min_length=1)
    coalition: str = Field(min_length=1)
    joined: date | None = None
    change_cost: int | None = Field(None, ge=0)
    report_views: list[date] = Field(default_factory=list)


class WhatIfInput(StrictModel):
    coalition: str = Field(min_length=1)
    system: str = Field(min_length=1)
    created: date


class AlignmentInputs(StrictModel):
    coalitions: list[CoalitionInput] = Field(min_length=1)
    members: list[MemberInput] = Field(default_factory=list)
    whatifs: list[WhatIfInput] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> AlignmentInputs:
        ids = [c.id for c in self.coalitions]
        if len(set(ids)) != len(ids):
            raise ValueError("coalition ids must be unique")
        known = {c.id: c for c in self.coalitions}
        members = set()
        for i, member in enumerate(self.members):
            if (member.coalition, member.id) in members:
                raise ValueError(f"members.{i}: member '{member.id}' is listed twice in '{member.coalition}'")
            members.add((member.coalition, member.id))
            if member.coalition not in known:
                raise ValueError(f"members.{i}: unknown coalition '{member.coalition}'")
            if member.change_cost is None and known[member.coalition].change_cost is None:
                raise ValueError(
                    f"members.{i}: no change_cost for '{member.id}' and coalition '{member.coalition}' sets none"
                )
        for i, whatif in enumerate(self.whatifs):
            if whatif.coalition not in known:
                raise ValueError(f"whatifs.{i}: unknown coalition '{whatif.coalition}'")
        return self

    def change_cost(self, member: MemberInput) -> int:
        if member.change_cost is not None:
            return member.change_cost
        cost = next(c.change_cost for c in self.coalitions if c.id == member.coalition)
        assert cost is not None
        return cost

    def months(self) -> list[str]:
        """Every month from the first recorded event to the last."""
        dates = [d for m in self.members for d in m.report_views] + [w.created for w in self.whatifs]
        dates += [m.joined for m in self.members if m.joined is not None]
        if not dates:
            return []
        return month_range(min(dates), max(dates))


def read_inputs(path: str | Path) -> AlignmentInputs:
    """Alignment inputs from a TOML or JSON file."""
    return load_document(path, AlignmentInputs)


def parse_month(text: str) -> str:
    """The one spelling of a month (`datalever.canonical.parse_month`): ASCII `YYYY-MM`, nothing around it."""
    return canonical.parse_month(text)


def month_end(month: str) -> date:
    year, mon = (int(p) for p in parse_month(month).split("-"))
    return date(year, mon, calendar.monthrange(year, mon)[1])


def month_range(first: date, last: date) -> list[str]:
    months = []
    year, mon = first.year, first.month
    while (year, mon) <= (last.year, last.month):
        months.append(f"{year:04d}-{mon:02d}")
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return months


@dataclass(frozen=True)
class AlignmentScore:
    month: str
    coalition: str
    system: str
    members: int
    aware: int
    can_reason: int
    agency: int
    aligned: int
    score: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Concentration:
    month: str
    system: str
    gini: float | None
    hhi: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def score_month(inputs: AlignmentInputs, system: str, month: str, policy: AlignmentPolicy) -> list[AlignmentScore]:
    """Each coalition's score for `system` at the end of `month`."""
    end = month_end(month)
    scores = []
    for coalition in inputs.coalitions:
        members = [m for m in inputs.members if m.coalition == coalition.id and (m.joined is None or m.joined <= end)]
        if not members:
            continue
        since_view = np.array(
            [min(((end - d).days for d in m.report_views if d <= end), default=np.inf) for m in members],
            dtype=float,
        )
        ages = [
            (end - w.created).days
            for w in inputs.whatifs
            if w.coalition == coalition.id and w.system == system and w.created <= end
        ]
        since_whatif = np.full(len(members), min(ages, default=np.inf), dtype=float)
        costs = np.array([inputs.change_cost(m) for m in members], dtype=float)
        aware = np.asarray(rules.is_aware(since_view, policy), dtype=bool)
        reason = np.asarray(rules.can_reason(since_whatif, policy), dtype=bool)
        agency = np.asarray(rules.has_agency(costs, policy), dtype=bool)
        ok = np.asarray(rules.aligned(aware, reason, agency), dtype=bool)
        scores.append(
            AlignmentScore(
                month=month,
                coalition=coalition.id,
                system=system,
                members=len(members),
                aware=int(aware.sum()),
                can_reason=int(reason.sum()),
                agency=int(agency.sum()),
                aligned=int(ok.sum()),
                score=rules.alignment_score(ok),
            )
        )
    return scores


def concentration(scores: Sequence[AlignmentScore], system: str, month: str) -> Concentration:
    """Gini of coalition scores and HHI of aligned members across coalitions (None when undefined)."""
    if not scores:
        return Concentration(month, system, None, None)
    gini = rules.gini([s.score for s in scores])
    aligned = [s.aligned for s in scores]
    hhi = rules.hhi(aligned) if sum(aligned) > 0 else None
    return Concentration(month, system, gini, hhi)


@dataclass(frozen=True)
class AlignmentReport:
    system: str
    months: tuple[str, ...]
    scores: tuple[AlignmentScore, ...]
    concentration: tuple[Concentration, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "months": list(self.months),
            "scores": [s.as_dict() for s in self.scores],
            "concentration": [c.as_dict() for c in self.concentration],
        }


def report(
    inputs: AlignmentInputs, system: str, policy: AlignmentPolicy, months: Sequence[str] | None = None
) -> AlignmentReport:
    """Scores and concentration for every month (default: every month the inputs cover)."""
    chosen = list(months) if months is not None else inputs.months()
    for month in chosen:
        parse_month(month)
    scores: list[AlignmentScore] = []
    conc: list[Concentration] = []
    for month in chosen:
        month_scores = score_month(inputs, system, month, policy)
        scores.extend(month_scores)
        conc.append(concentration(month_scores, system, month))
    return AlignmentReport(system, tuple(chosen), tuple(scores), tuple(conc))


def months_up_to(inputs: AlignmentInputs, month: str) -> list[str]:
    """The inputs' months ending with `month` (the trend that leads to it)."""
    parse_month(month)
    covered = inputs.months()
    first = covered[0] if covered and covered[0] <= month else month
    return month_range(date.fromisoformat(first + "-01"), date.fromisoformat(month + "-01"))
