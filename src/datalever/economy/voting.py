"""Pool-spending rules: which projects a community's pool pays for, from its members' votes.

* **Method of Equal Shares** (Peters & Skowron 2020; Peters, Pierczynski & Skowron 2021 for additive
  utilities): the budget is split equally among the voters; a project is bought when its supporters can
  pay its cost from their shares. Each round buys the project whose cost can be covered with the lowest
  price per vote rho (each supporter i pays min(share left, rho x votes_i)); ties go to more votes, then
  lower cost, then the lower project id. It stops when no project is affordable: no completion step, so
  part of the budget may stay in the pool (a documented weakness).
* **Quadratic funding** (Buterin, Hitzig & Weyl 2019): a project's ideal funding is (sum_i sqrt(c_i))^2
  over its contributors' credits c_i; when the ideal totals exceed the budget, every project is scaled by
  the same factor (the capital-constrained variant); a project never gets more than its cost.

Exact rational arithmetic (fractions.Fraction): tallies are deterministic, with no float ties.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Project:
    id: int
    cost: int


@dataclass(frozen=True)
class EqualSharesResult:
    selected: tuple[int, ...]  # in the order bought
    payments: dict[int, dict[int, Fraction]]  # project -> voter -> share of its cost
    spent: int
    rho: dict[int, Fraction]  # project -> price per vote when bought


def _price(cost: int, supporters: Sequence[tuple[Fraction, int]]) -> Fraction | None:
    """Lowest rho with sum_i min(b_i, rho * u_i) = cost, or None if the supporters cannot pay.

    `supporters` are (budget left, votes > 0). Those with the least budget per vote pay all they have.
    """
    if sum(b for b, _ in supporters) < cost:
        return None
    ordered = sorted(supporters, key=lambda s: s[0] / s[1])
    paid = Fraction(0)
    votes_left = sum(u for _, u in ordered)
    for b, u in ordered:
        rho = (cost - paid) / votes_left
        if rho * u <= b:
            return rho
        paid += b
        votes_left -= u
    return None  # unreachable when the budgets cover the cost


def equal_shares(projects: Sequence[Project], votes: Mapping[int, Mapping[int, int]], budget: int) -> EqualSharesResult:
    """Method of Equal Shares over `votes` (voter -> project -> votes >= 0) and an integer budget."""
    if budget < 0 or any(p.cost <= 0 for p in projects):
        raise ValueError("budget >= 0 and project costs > 0")
    voters = sorted(v for v, ballot in votes.items() if any(n > 0 for n in ballot.values()))
    left = {v: Fraction(budget, len(voters)) for v in voters} if voters else {}
    chosen: list[int] = []
    payments: dict[int, dict[int, Fraction]] = {}
    rhos: dict[int, Fraction] = {}
    remaining = {p.id: p for p in projects}
    while True:
        best: tuple[Fraction, int, int, int] | None = None
        for pid, project in remaining.items():
            backers = [(v, votes[v].get(pid, 0)) for v in voters if votes[v].get(pid, 0) > 0]
            rho = _price(project.cost, [(left[v], u) for v, u in backers])
            if rho is None:
                continue
            key = (rho, -sum(u for _, u in backers), project.cost, pid)
            if best is None or key < best:
                best = key
        if best is None:
            break
        rho, _, cost, pid = best
        paid = {}
        for v in voters:
            u = votes[v].get(pid, 0)
            if u > 0:
                share = min(left[v], rho * u)
                left[v] -= share
                paid[v] = share
        assert sum(paid.values()) == cost
        chosen.append(pid)
        payments[pid] = paid
        rhos[pid] = rho
        del remaining[pid]
    spent = sum(next(p.cost for p in projects if p.id == pid) for pid in chosen)
    assert spent <= budget
    return EqualSharesResult(tuple(chosen), payments, spent, rhos)


def _sqrt_sum(values: Sequence[int]) -> float:
    return sum(math.sqrt(v) for v in values if v > 0)


def quadratic_funding(
    projects: Sequence[Project], contributions: Mapping[int, Mapping[int, int]], budget: int
) -> dict[int, int]:
    """Credits per project: (sum sqrt c_i)^2 capped at its cost, scaled to the budget, integers that fit it.

    Integer rounding: each project gets the floor of its scaled amount, so the total never exceeds the budget.
    """
    if budget < 0 or any(p.cost <= 0 for p in projects):
        raise ValueError("budget >= 0 and project costs > 0")
    ideal: dict[int, float] = {}
    for project in projects:
        given = [ballot.get(project.id, 0) for ballot in contributions.values()]
        if any(c < 0 for c in given):
            raise ValueError("contributions must be >= 0")
        ideal[project.id] = min(float(project.cost), _sqrt_sum(given) ** 2)
    total = sum(ideal.values())
    scale = 1.0 if total <= budget else budget / total
    funded = {
        pid: min(math.floor(amount * scale + 1e-9), next(p.cost for p in projects if p.id == pid))
        for pid, amount in ideal.items()
    }
    while sum(funded.values()) > budget:  # guard against the rounding slack above
        top = max(funded, key=lambda k: (funded[k], -k))
        funded[top] -= 1
    return funded
