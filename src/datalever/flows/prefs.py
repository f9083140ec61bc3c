"""A coalition's data-use preferences and their export to the formats the web uses.

Preferences say, per AI crawler token, operator or purpose, whether the coalition's content may be used:
`allow`, `deny`, or `allow_if_funding` (allowed only for operators that fund the community's credit pool).
They are resolved against the packaged list of AI crawler tokens and exported as

* robots.txt groups (RFC 9309) for the AI crawlers,
* TDMRep `/.well-known/tdmrep.json` (W3C TDMRep Community Group final report, 2024-05-10), and
* ai.txt (Spawning's site-wide AI-use file, same syntax as robots.txt).

TDMRep and ai.txt cannot name operators: they carry a site-wide reservation, with the licensing terms
(e.g. "fund our credit pool") behind the `tdm-policy` URL.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import Field, HttpUrl, field_validator, model_validator

from datalever.documents import ConfigError, StrictModel, load_document, load_toml, validate_mapping

TDMREP_SPEC = "https://www.w3.org/community/reports/tdmrep/CG-FINAL-tdmrep-20240510/"


class Purpose(StrEnum):
    TRAINING = "training"
    SEARCH = "search"
    USER_FETCH = "user_fetch"
    ARCHIVE = "archive"


class Decision(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    ALLOW_IF_FUNDING = "allow_if_funding"


STRICTNESS = {Decision.ALLOW: 0, Decision.ALLOW_IF_FUNDING: 1, Decision.DENY: 2}


class Crawler(StrictModel):
    token: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    operator: str = Field(min_length=1)
    purposes: list[Purpose] = Field(min_length=1)
    docs: HttpUrl
    control_token: bool = False
    note: str | None = None


class CrawlerList(StrictModel):
    checked: str
    list_source: HttpUrl
    crawlers: list[Crawler] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> CrawlerList:
        seen: set[str] = set()
        for crawler in self.crawlers:
            key = crawler.token.lower()
            if key in seen:
                raise ValueError(f"crawler token '{crawler.token}' is listed twice")
            seen.add(key)
        return self

    def by_token(self) -> dict[str, Crawler]:
        return {c.token.lower(): c for c in self.crawlers}

    def operators(self) -> list[str]:
        return sorted({c.operator for c in self.crawlers})


@cache
def packaged_crawlers() -> CrawlerList:
    with resources.as_file(resources.files("datalever.flows") / "data" / "ai_crawlers.toml") as path:
        return load_toml(path, CrawlerList)


class Rule(StrictModel):
    """One preference: exactly one of agent / operator / purpose, and a decision."""

    agent: str | None = None
    operator: str | None = None
    purpose: Purpose | None = None
    decision: Decision

    @model_validator(mode="after")
    def _one_target(self) -> Rule:
        targets = [t for t in (self.agent, self.operator, self.purpose) if t is not None]
        if len(targets) != 1:
            raise ValueError("a rule names exactly one of agent, operator or purpose")
        return self

    @property
    def target(self) -> tuple[str, str]:
        if self.agent is not None:
            return ("agent", self.agent.lower())
        if self.operator is not None:
            return ("operator", self.operator)
        assert self.purpose is not None
        return ("purpose", self.purpose.value)


class Preferences(StrictModel):
    """A coalition's data-use preferences (stored by the service, or kept in a TOML/JSON file)."""

    coalition: str = Field(min_length=1)
    site: HttpUrl | None = None
    paths: list[str] = Field(default_factory=lambda: ["/"], min_length=1)
    default: Decision = Decision.DENY
    funding_operators: list[str] = Field(default_factory=list)
    tdm_policy: HttpUrl | None = None
    rules: list[Rule] = Field(default_factory=list)

    @field_validator("paths")
    @classmethod
    def _paths_are_absolute(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if not path.startswith("/") or any(ch.isspace() for ch in path):
                raise ValueError(f"path '{path}' must start with '/' and contain no spaces")
        return paths

    @model_validator(mode="after")
    def _no_conflicts(self) -> Preferences:
        seen: dict[tuple[str, str], Decision] = {}
        for rule in self.rules:
            if rule.target in seen:
                kind, name = rule.target
                raise ValueError(f"two rules for {kind} '{name}'; keep one")
            seen[rule.target] = rule.decision
        return self


def check_known(prefs: Preferences, crawlers: CrawlerList, source: str = "preferences") -> None:
    """Refuse agents and operators the crawler list does not know (typos would silently allow)."""
    tokens = crawlers.by_token()
    operators = crawlers.operators()
    problems: list[str] = []
    for i, rule in enumerate(prefs.rules):
        if rule.agent is not None and rule.agent.lower() not in tokens:
            close = difflib.get_close_matches(rule.agent, [c.token for c in crawlers.crawlers], n=2)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            problems.append(f"rules.{i}.agent: unknown AI crawler token '{rule.agent}'{hint}")
        if rule.operator is not None and rule.operator not in operators:
            problems.append(f"rules.{i}.operator: unknown operator '{rule.operator}' (known: {', '.join(operators)})")
    for i, operator in enumerate(prefs.funding_operators):
        if operator not in operators:
            problems.append(f"funding_operators.{i}: unknown operator '{operator}' (known: {', '.join(operators)})")
    if problems:
        raise ConfigError(source, problems)


def load_preferences(path: str | Path, crawlers: CrawlerList | None = None) -> Preferences:
    """Read and validate a preferences file (.toml or .json)."""
    prefs = load_document(path, Preferences)
    check_known(prefs, crawlers or packaged_crawlers(), str(path))
    return prefs


def validate_preferences(data: dict[str, Any], crawlers: CrawlerList | None = None) -> Preferences:
    prefs = validate_mapping(data, Preferences, "preferences")
    check_known(prefs, crawlers or packaged_crawlers())
    return prefs


@dataclass(frozen=True)
class Verdict:
    token: str
    operator: str
    allowed: bool
    reason: str


def resolve(prefs: Preferences, crawlers: CrawlerList | None = None) -> list[Verdict]:
    """Decide each crawler: agent rule, else operator rule, else purpose rule (strictest), else default."""
    crawlers = crawlers or packaged_crawlers()
    by_agent = {r.agent.lower(): r for r in prefs.rules if r.agent is not None}
    by_operator = {r.operator: r for r in prefs.rules if r.operator is not None}
    by_purpose = {r.purpose: r for r in prefs.rules if r.purpose is not None}
    funders = set(prefs.funding_operators)
    verdicts = []
    for crawler in crawlers.crawlers:
        if crawler.token.lower() in by_agent:
            rule, why = by_agent[crawler.token.lower()], f"rule for agent {crawler.token}"
        elif crawler.operator in by_operator:
            rule, why = by_operator[crawler.operator], f"rule for operator {crawler.operator}"
        else:
            matching = [by_purpose[p] for p in crawler.purposes if p in by_purpose]
            strictest = sorted(matching, key=lambda r: STRICTNESS[r.decision], reverse=True)
            if strictest:
                rule = strictest[0]
                why = f"rule for purpose {rule.purpose.value if rule.purpose else ''}"
            else:
                rule, why = Rule(agent=crawler.token, decision=prefs.default), "default"
        if rule.decision is Decision.ALLOW_IF_FUNDING:
            funds = crawler.operator in funders
            allowed = funds
            why += f": {crawler.operator} {'funds' if funds else 'does not fund'} the credit pool"
        else:
            allowed = rule.decision is Decision.ALLOW
        verdicts.append(Verdict(crawler.token, crawler.operator, allowed, why))
    return verdicts


def robots_txt(prefs: Preferences, crawlers: CrawlerList | None = None) -> str:
    """robots.txt groups: one for the crawlers the coalition blocks, one for those it allows."""
    crawlers = crawlers or packaged_crawlers()
    verdicts = resolve(prefs, crawlers)
    denied = [v for v in verdicts if not v.allowed]
    allowed = [v for v in verdicts if v.allowed]
    lines = [
        f"# AI crawler rules for coalition '{prefs.coalition}', generated by datalever from its preferences.",
        f"# Crawler tokens: datalever's list checked {crawlers.checked} (see {crawlers.list_source}).",
    ]
    if denied:
        lines += ["", "# Blocked by the coalition's preferences:"]
        lines += [f"User-agent: {v.token}  # {v.operator}; {v.reason}" for v in denied]
        lines += [f"Disallow: {path}" for path in prefs.paths]
    if allowed:
        lines += ["", "# Allowed by the coalition's preferences:"]
        lines += [f"User-agent: {v.token}  # {v.operator}; {v.reason}" for v in allowed]
        lines += [f"Allow: {path}" for path in prefs.paths]
    return "\n".join(lines) + "\n"


def reserves_training(prefs: Preferences, crawlers: CrawlerList | None = None) -> bool:
    """True unless every training crawler is allowed unconditionally (TDM rights are then not reserved)."""
    crawlers = crawlers or packaged_crawlers()
    training = {c.token for c in crawlers.crawlers if Purpose.TRAINING in c.purposes}
    verdicts = {v.token: v for v in resolve(prefs, crawlers)}
    conditional = any(r.decision is Decision.ALLOW_IF_FUNDING for r in prefs.rules) or (
        prefs.default is Decision.ALLOW_IF_FUNDING
    )
    return conditional or not all(verdicts[t].allowed for t in training)


def _location(path: str) -> str:
    return path if path == "/" or path.endswith("*") else path.rstrip("/") + "/*"


def tdmrep_json(prefs: Preferences, crawlers: CrawlerList | None = None) -> str:
    """`/.well-known/tdmrep.json`: one rule per path, tdm-reservation 1 or 0, and the policy URL if any."""
    reserved = 1 if reserves_training(prefs, crawlers) else 0
    rules: list[dict[str, Any]] = []
    for path in prefs.paths:
        rule: dict[str, Any] = {"location": _location(path), "tdm-reservation": reserved}
        if prefs.tdm_policy is not None and reserved:
            rule["tdm-policy"] = str(prefs.tdm_policy)
        rules.append(rule)
    return json.dumps(rules, indent=2) + "\n"


def ai_txt(prefs: Preferences, crawlers: CrawlerList | None = None) -> str:
    """ai.txt (Spawning): site-wide, robots.txt syntax; disallows the coalition's paths when reserved."""
    reserved = reserves_training(prefs, crawlers)
    lines = [
        f"# ai.txt for coalition '{prefs.coalition}', generated by datalever from its preferences.",
        "# ai.txt applies to every AI miner; per-operator choices are in robots.txt"
        + (f" and the TDM policy at {prefs.tdm_policy}" if prefs.tdm_policy else "")
        + ".",
        "User-Agent: *",
    ]
    lines += [f"{'Disallow' if reserved else 'Allow'}: {path}" for path in prefs.paths]
    return "\n".join(lines) + "\n"


EXPORTERS = {"robots": robots_txt, "tdmrep": tdmrep_json, "aitxt": ai_txt}
