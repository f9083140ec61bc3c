"""Streaming readers of real platform activity formats, yielding normalized contribution records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from datalever.importers.github import read_events
from datalever.importers.mediawiki import read_usercontribs
from datalever.importers.records import Contribution, ContributionKind, ImportFormatError, Platform
from datalever.importers.stackexchange import read_dump

__all__ = [
    "Contribution",
    "ContributionKind",
    "ImportFormatError",
    "Platform",
    "parse_platform",
    "read_dump",
    "read_events",
    "read_source",
    "read_usercontribs",
]

JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")


def parse_platform(name: str) -> Platform:
    """The platform for a user-supplied name, or a clear error listing the known ones."""
    try:
        return Platform(name.strip().lower())
    except ValueError:
        known = ", ".join(p.value for p in Platform)
        raise ValueError(f"unknown platform {name!r} (known platforms: {known})") from None


def read_source(platform: Platform, path: str | Path, site: str | None = None) -> Iterator[Contribution]:
    """Contributions from a platform export: a dump directory (Stack Exchange), or JSON files / a folder of them."""
    path = Path(path)
    if platform is Platform.STACKEXCHANGE:
        yield from read_dump(path, site or path.name)
        return
    files = sorted(p for p in path.iterdir() if p.suffix in JSON_SUFFIXES) if path.is_dir() else [path]
    if not files:
        raise ImportFormatError(path, "directory", f"no {', '.join(JSON_SUFFIXES)} files found")
    for file in files:
        if platform is Platform.GITHUB:
            yield from read_events(file)
        else:
            yield from read_usercontribs(file, site or "en.wikipedia.org")
