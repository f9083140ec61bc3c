"""The directory's entry shape (shared by the seed file, member submissions and the JSON API) and the seed.

The seed (`data/levers.json`) holds real entries, each with a link to what it is and at least one citation;
the migration `0005_webapp` inserts them approved.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

LeverName = Literal["data_strike", "conscious_data_contribution", "data_poisoning", "regulation", "bargaining"]
TAG = re.compile(r"^[a-z0-9][a-z0-9.+-]{0,29}$")
NODE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,119}$")


def web_url(value: str) -> str:
    """Only http(s) links: a `javascript:` or `data:` URL in a directory entry would run in readers' browsers."""
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", value, re.IGNORECASE):
        raise ValueError("must be a web address starting with http:// or https://")
    return value


def tag_list(values: list[str]) -> list[str]:
    tags = sorted({value.strip().lower() for value in values if value.strip()})
    bad = [tag for tag in tags if not TAG.match(tag)]
    if bad:
        raise ValueError(f"tags are lower-case words with letters, digits, '.', '+' or '-' (bad: {bad[0]!r})")
    return tags


def node_list(values: list[str]) -> list[str]:
    nodes = sorted({value.strip() for value in values if value.strip()})
    bad = [node for node in nodes if not NODE.match(node)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a catalog node id")
    return nodes


WebUrl = Annotated[str, Field(min_length=10, max_length=500), AfterValidator(web_url)]


class Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=3, max_length=300)
    url: WebUrl


class LeverEntry(BaseModel):
    """One tool or action: what it does, which lever, what it affects in the flows catalog, and evidence."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=3, max_length=200)
    summary: str = Field(min_length=20, max_length=2000, description="What it does, in plain words.")
    lever: LeverName
    url: WebUrl
    tags: Annotated[list[str], Field(max_length=10), AfterValidator(tag_list)] = []
    nodes: Annotated[list[str], Field(max_length=20), AfterValidator(node_list)] = []
    evidence: list[Evidence] = Field(min_length=1, max_length=10)


@cache
def seed_entries() -> tuple[LeverEntry, ...]:
    text = resources.files("datalever.webapp").joinpath("data/levers.json").read_text("utf-8")
    return tuple(LeverEntry.model_validate(item) for item in json.loads(text))
