"""Rendering: one Jinja2 environment over the package's templates (autoescaped), security headers, and the
package's static files (looked up in a fixed table, so no path from a URL ever reaches the file system)."""

from __future__ import annotations

import mimetypes
import secrets
from datetime import datetime
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

STATIC = "static"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _credits(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _when(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    if value is None:
        return "never"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime(fmt)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2g}%" if value < 0.01 else f"{value * 100:.1f}%"


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("datalever.webapp", "templates"),
        autoescape=select_autoescape(["html", "j2", "svg"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["credits"] = _credits
    env.filters["when"] = _when
    env.filters["percent"] = _percent
    env.globals["nonce"] = lambda: secrets.token_urlsafe(18)  # a form's one-time idempotency nonce
    return env


def render(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = environment().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=HEADERS)


@cache
def _static_table() -> dict[str, Traversable]:
    """Every file under static/, by its path relative to it."""
    table: dict[str, Traversable] = {}

    def walk(node: Traversable, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif not child.name.endswith((".txt", ".map")):
                table[f"{prefix}{child.name}"] = child

    walk(resources.files("datalever.webapp").joinpath(STATIC), "")
    return table


_contents: dict[str, bytes] = {}


def static_file(path: str) -> tuple[bytes, str] | None:
    """(content, media type) of a packaged static file, or None (only known files are ever cached)."""
    found = _static_table().get(path)
    if found is None:
        return None
    if path not in _contents:
        _contents[path] = found.read_bytes()
    media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if path.endswith(".js"):
        media_type = "text/javascript"
    if path.endswith(("LICENSE", "NOTICE")):
        media_type = "text/plain"
    return _contents[path], media_type
