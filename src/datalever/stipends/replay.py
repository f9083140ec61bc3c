"""Replay a Stack Exchange dump month by month: who would have qualified for a stipend, and what it would cost.

This is how a platform sizes a policy before deploying it: no database, no members, every dump account
treated as one member. Outputs a monthly CSV, an account-level CSV (with the attribution links the dump's
licence asks for) and a plot.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from datalever.economy.policy import Policy
from datalever.economy.stipends import Rule, stipend_due
from datalever.stipends.tally import AccountMonth, month_label, tally_dump

RULE_COLUMNS = [Rule.STACKEXCHANGE_SCORED_POSTS, Rule.STACKEXCHANGE_ACCEPTED_ANSWER]


@dataclass
class MonthSummary:
    month: int
    active_accounts: int = 0
    qualified_accounts: int = 0
    credits: int = 0
    by_rule: dict[Rule, int] = field(default_factory=dict)


@dataclass
class ReplayResult:
    site: str
    records: int
    months: list[MonthSummary]
    accounts: list[AccountMonth]
    user_names: dict[str, str]

    @property
    def total_credits(self) -> int:
        return sum(month.credits for month in self.months)

    @property
    def total_qualified(self) -> int:
        return sum(month.qualified_accounts for month in self.months)


def replay_dump(
    dump: Path, policy: Policy, site: str, on_bytes: Callable[[int], None] | None = None, workers: int = 1
) -> ReplayResult:
    """Tally the whole dump, judge every account-month, and sum the stipends month by month."""
    tally = tally_dump(dump, site, policy.stipend.criteria, workers=workers, on_bytes=on_bytes)
    accounts = sorted(tally.results(), key=lambda a: (a.month, int(a.user_id) if a.user_id.isdigit() else 0))
    names = {user_id: name for (_, _, user_id), name in tally.user_names.items()}
    if not accounts:
        return ReplayResult(site, tally.records, [], [], names)
    first, last = accounts[0].month, accounts[-1].month
    months = {index: MonthSummary(index, by_rule=dict.fromkeys(RULE_COLUMNS, 0)) for index in range(first, last + 1)}
    qualified = np.asarray([account.rule is not Rule.NONE for account in accounts], dtype=np.int64)
    credits = stipend_due(qualified, policy.stipend)  # one platform per account in a dump replay
    for account, paid in zip(accounts, np.atleast_1d(credits), strict=True):
        summary = months[account.month]
        summary.active_accounts += 1
        if account.rule is not Rule.NONE:
            summary.qualified_accounts += 1
            summary.by_rule[account.rule] += 1
            summary.credits += int(paid)
    return ReplayResult(site, tally.records, list(months.values()), accounts, names)


def write_monthly_csv(result: ReplayResult, path: Path) -> None:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(
            ["month", "active_accounts", "qualified_accounts", *(rule.label for rule in RULE_COLUMNS), "credits_paid"]
        )
        for month in result.months:
            writer.writerow(
                [
                    month_label(month.month),
                    month.active_accounts,
                    month.qualified_accounts,
                    *(month.by_rule[rule] for rule in RULE_COLUMNS),
                    month.credits,
                ]
            )


def write_accounts_csv(result: ReplayResult, policy: Policy, path: Path) -> None:
    """Qualified account-months, with each author's name and profile link (the dump's attribution terms)."""
    base = f"https://{result.site}" if "." in result.site else ""
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["month", "user_id", "display_name", "profile_url", "rule", "scored_posts", "accepted_answers"])
        for account in result.accounts:
            if account.rule is Rule.NONE:
                continue
            writer.writerow(
                [
                    account.month_label,
                    account.user_id,
                    result.user_names.get(account.user_id, ""),
                    f"{base}/users/{account.user_id}" if base else "",
                    account.rule.label,
                    account.counts["scored_posts"],
                    account.counts["accepted_answers"],
                ]
            )


def plot(result: ReplayResult, path: Path, source_note: str) -> None:
    """Accounts active vs qualified per month, and credits paid per month (cumulative on a second axis)."""
    import matplotlib

    matplotlib.use("Agg")
    from datetime import date

    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    dates = [date(m.month // 12, m.month % 12 + 1, 1) for m in result.months]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    top.plot(dates, [m.active_accounts for m in result.months], label="active accounts", color="#9aa5b1")
    top.plot(dates, [m.qualified_accounts for m in result.months], label="would qualify", color="#1f77b4")
    top.set_ylabel("accounts per month")
    top.set_title(f"Stipend replay: {result.site}")
    top.legend(loc="upper right")
    bottom.bar(dates, [m.credits for m in result.months], width=25, color="#2ca02c", label="credits paid")
    bottom.set_ylabel("credits per month")
    cumulative = bottom.twinx()
    cumulative.plot(dates, np.cumsum([m.credits for m in result.months]), color="#d62728", label="cumulative")
    cumulative.set_ylabel("cumulative credits")
    bottom.xaxis.set_major_locator(mdates.YearLocator())  # type: ignore[no-untyped-call]
    bottom.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))  # type: ignore[no-untyped-call]
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    figure.text(0.01, 0.01, source_note, fontsize=7, color="#555555", wrap=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
