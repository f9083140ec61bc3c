"""JSON as platform APIs hand it out and people save it: one response per file, or one object per line.

A saved API response is bounded by the API's page size (GitHub: at most 100 events a page; MediaWiki: 500
contributions, 5,000 for bots), so a response file is parsed whole. Long histories come as many pages: one
file each, or one page or event per line (JSON Lines, as GH Archive publishes events), which is streamed
line by line so memory stays flat however long the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datalever.importers.records import ImportFormatError


def iter_documents(path: str | Path) -> Iterator[tuple[str, Any]]:
    """Yield (position, parsed JSON) for each document in a file: the whole file, or each non-blank line."""
    path = Path(path)
    try:
        stream = path.open("rb")
    except OSError as error:
        raise ImportFormatError(path, "file", f"cannot read ({error.strerror})") from None
    with stream:
        first = stream.readline()
        if not first.strip():
            rest = stream.read()
            if not rest.strip():
                raise ImportFormatError(path, "start of file", "empty file: no JSON document")
            yield "document", _loads(path, first + rest, 0)
            return
        try:
            first_doc = json.loads(first)
        except (json.JSONDecodeError, UnicodeDecodeError):
            first_doc = None
        if not isinstance(first_doc, dict):
            # A pretty-printed response spans lines, or one array of events: parse the file as one document.
            yield "document", _loads(path, first + stream.read(), 0)
            return
        yield "line 1", first_doc
        for number, line in enumerate(stream, start=2):
            if line.strip():
                yield f"line {number}", _loads(path, line.rstrip(b"\r\n"), number - 1)


def _loads(path: Path, data: bytes, line_offset: int) -> Any:
    try:
        return json.loads(data)
    except UnicodeDecodeError as error:
        raise ImportFormatError(path, f"byte {error.start}", "not UTF-8 text") from None
    except json.JSONDecodeError as error:
        reason = error.msg
        if error.pos >= len(data.rstrip()) - 1 or reason.startswith("Unterminated"):
            reason += " (the file looks truncated)"
        raise ImportFormatError(path, f"line {error.lineno + line_offset}, column {error.colno}", reason) from None
