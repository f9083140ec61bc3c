"""Data-use preferences: generated robots.txt blocks exactly what they say (checked with protego)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from protego import Protego

from datalever.documents import ConfigError
from datalever.flows.prefs import (
    ai_txt,
    load_preferences,
    packaged_crawlers,
    resolve,
    robots_txt,
    tdmrep_json,
    validate_preferences,
)

CRAWLERS = packaged_crawlers()
URL = "https://bicycles.stackexchange.com/questions/1/how-to-true-a-wheel"


def expected_allowed(prefs_data):
    return {v.token: v.allowed for v in resolve(validate_preferences(prefs_data))}


def test_crawler_list_covers_the_major_ai_crawlers():
    tokens = {c.token for c in CRAWLERS.crawlers}
    required = {
        "GPTBot",
        "ChatGPT-User",
        "OAI-SearchBot",
        "CCBot",
        "Google-Extended",
        "anthropic-ai",
        "ClaudeBot",
        "PerplexityBot",
        "Bytespider",
        "Applebot-Extended",
        "meta-externalagent",
        "cohere-ai",
    }
    assert required <= tokens
    assert all(c.operator and c.purposes and c.docs for c in CRAWLERS.crawlers)


CASES = {
    "deny-all": {"coalition": "bikes", "default": "deny"},
    "allow-all": {"coalition": "bikes", "default": "allow"},
    "deny-training-allow-rest": {
        "coalition": "bikes",
        "default": "allow",
        "rules": [{"purpose": "training", "decision": "deny"}],
    },
    "funders-only": {
        "coalition": "bikes",
        "default": "deny",
        "funding_operators": ["OpenAI", "Ai2"],
        "rules": [{"purpose": "training", "decision": "allow_if_funding"}, {"agent": "CCBot", "decision": "allow"}],
    },
    "operator-and-agent": {
        "coalition": "bikes",
        "default": "allow",
        "rules": [
            {"operator": "Anthropic", "decision": "deny"},
            {"agent": "Claude-User", "decision": "allow"},
            {"agent": "gptbot", "decision": "deny"},
        ],
    },
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_robots_txt_round_trips_through_protego(case):
    data = CASES[case]
    prefs = validate_preferences(data)
    parser = Protego.parse(robots_txt(prefs))
    for token, allowed in expected_allowed(data).items():
        assert parser.can_fetch(URL, token) is allowed, token
        full_agent = f"Mozilla/5.0 (compatible; {token}/1.0; +https://example.org/bot)"
        assert parser.can_fetch(URL, full_agent) is allowed, full_agent
    assert parser.can_fetch(URL, "Googlebot") is True  # non-AI crawlers untouched


def test_rules_resolve_by_precedence():
    verdicts = expected_allowed(CASES["operator-and-agent"])
    assert verdicts["ClaudeBot"] is False  # operator rule
    assert verdicts["Claude-User"] is True  # agent rule beats operator rule
    assert verdicts["GPTBot"] is False  # agent tokens are case-insensitive
    assert verdicts["ChatGPT-User"] is True  # default
    funders = expected_allowed(CASES["funders-only"])
    assert funders["GPTBot"] is True and funders["AI2Bot"] is True  # fund the pool
    assert funders["ClaudeBot"] is False and funders["Bytespider"] is False  # do not
    assert funders["CCBot"] is True  # explicit agent rule
    assert funders["PerplexityBot"] is False  # search purpose: default deny


def test_paths_limit_the_rules():
    prefs = validate_preferences({"coalition": "bikes", "default": "deny", "paths": ["/questions/"]})
    parser = Protego.parse(robots_txt(prefs))
    assert parser.can_fetch(URL, "GPTBot") is False
    assert parser.can_fetch("https://bicycles.stackexchange.com/help", "GPTBot") is True


def test_tdmrep_json_follows_the_community_report():
    prefs = validate_preferences(
        {
            "coalition": "bikes",
            "default": "deny",
            "paths": ["/", "/questions/"],
            "tdm_policy": "https://bicycles.example/tdm-policy.json",
        }
    )
    rules = json.loads(tdmrep_json(prefs))
    assert rules == [
        {"location": "/", "tdm-reservation": 1, "tdm-policy": "https://bicycles.example/tdm-policy.json"},
        {"location": "/questions/*", "tdm-reservation": 1, "tdm-policy": "https://bicycles.example/tdm-policy.json"},
    ]
    open_prefs = validate_preferences({"coalition": "bikes", "default": "allow"})
    assert json.loads(tdmrep_json(open_prefs)) == [{"location": "/", "tdm-reservation": 0}]
    funders = validate_preferences(CASES["funders-only"])
    assert json.loads(tdmrep_json(funders))[0]["tdm-reservation"] == 1  # conditional use is a reservation


def test_ai_txt():
    reserved = ai_txt(validate_preferences({"coalition": "bikes", "paths": ["/questions/"]}))
    assert "User-Agent: *" in reserved and "Disallow: /questions/" in reserved
    parser = Protego.parse(reserved)
    assert parser.can_fetch(URL, "AnyAIMiner") is False
    assert "Allow: /" in ai_txt(validate_preferences({"coalition": "bikes", "default": "allow"}))


BAD = {
    "unknown-agent": ({"coalition": "b", "rules": [{"agent": "GPTbott", "decision": "deny"}]}, "did you mean 'GPTBot'"),
    "unknown-operator": ({"coalition": "b", "rules": [{"operator": "OpenAl", "decision": "deny"}]}, "unknown operator"),
    "unknown-funder": ({"coalition": "b", "funding_operators": ["Acme"]}, "funding_operators.0: unknown operator"),
    "two-targets": (
        {"coalition": "b", "rules": [{"agent": "GPTBot", "operator": "OpenAI", "decision": "deny"}]},
        "exactly one",
    ),
    "conflict": (
        {
            "coalition": "b",
            "rules": [{"agent": "GPTBot", "decision": "deny"}, {"agent": "gptbot", "decision": "allow"}],
        },
        "two rules for agent 'gptbot'",
    ),
    "bad-decision": ({"coalition": "b", "rules": [{"agent": "GPTBot", "decision": "maybe"}]}, "rules.0.decision"),
    "bad-path": ({"coalition": "b", "paths": ["questions"]}, "must start with '/'"),
    "unknown-key": ({"coalition": "b", "defualt": "deny"}, "defualt: unknown key"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_preferences_are_refused(case):
    data, message = BAD[case]
    with pytest.raises(ConfigError) as error:
        validate_preferences(data)
    assert message in str(error.value)


def test_preferences_files(tmp_path):
    path = tmp_path / "prefs.toml"
    path.write_text('coalition = "bikes"\ndefault = "deny"\n[[rules]]\nagent = "CCBot"\ndecision = "allow"\n')
    assert load_preferences(path).rules[0].agent == "CCBot"
    bad = tmp_path / "prefs.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_preferences(bad)


TOKENS = [c.token for c in CRAWLERS.crawlers]
OPERATORS = CRAWLERS.operators()


@st.composite
def random_preferences(draw):
    rules = {}
    for token in draw(st.lists(st.sampled_from(TOKENS), max_size=6, unique=True)):
        rules[("agent", token)] = {"agent": token, "decision": draw(st.sampled_from(DECISIONS))}
    for operator in draw(st.lists(st.sampled_from(OPERATORS), max_size=4, unique=True)):
        rules[("operator", operator)] = {"operator": operator, "decision": draw(st.sampled_from(DECISIONS))}
    for purpose in draw(st.lists(st.sampled_from(["training", "search", "user_fetch", "archive"]), unique=True)):
        rules[("purpose", purpose)] = {"purpose": purpose, "decision": draw(st.sampled_from(DECISIONS))}
    return {
        "coalition": "c",
        "default": draw(st.sampled_from(DECISIONS)),
        "funding_operators": draw(st.lists(st.sampled_from(OPERATORS), max_size=3, unique=True)),
        "paths": draw(st.sampled_from([["/"], ["/questions/"], ["/questions/", "/a/"]])),
        "rules": list(rules.values()),
    }


DECISIONS = ["allow", "deny", "allow_if_funding"]


@settings(max_examples=80, deadline=None)
@given(random_preferences())
def test_any_preferences_round_trip_through_protego(data):
    prefs = validate_preferences(data)
    parser = Protego.parse(robots_txt(prefs))
    for verdict in resolve(prefs):
        assert parser.can_fetch(URL, verdict.token) is verdict.allowed, verdict
