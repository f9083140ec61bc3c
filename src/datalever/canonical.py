"""Strict parsing of every value that enters through the API or the CLI, into one canonical form.

Why: Python's `\\d` matches any Unicode digit, `int()` accepts them (and surrounding whitespace), and `$`
matches before a trailing newline, so `2026-12`, the same in full-width digits and `2026-12\\n` were three
spellings of one month and three idempotency keys. Here a value is accepted only in its one ASCII
spelling (no surrounding whitespace, no leading `+`), checked with `fullmatch` on `[0-9]` classes, and
bounded so that it fits the column it lands in. Idempotency keys must be built from the values these functions return.

Each parser raises `CanonicalError` (a `ValueError`, so pydantic reports it as a 422 and Typer callbacks turn
it into a usage error). The `Annotated` types below plug the same parsers into pydantic models and FastAPI
parameters; `typer_callback` plugs them into CLI options.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, WithJsonSchema

T = TypeVar("T")

MAX_ID = 2**31 - 1  # ids are 32-bit integer columns
MAX_AMOUNT = 2**63 - 1  # credits are 64-bit integer columns
MAX_IDEMPOTENCY_KEY = 200
MAX_TEXT = 4000

_YEAR = r"(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"  # 0001-9999
MONTH_PATTERN = rf"^{_YEAR}-(?:0[1-9]|1[0-2])$"
DATE_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
ID_PATTERN = r"^[1-9][0-9]{0,9}$"
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,200}$"  # printable ASCII, no spaces

_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
_DATE = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")
_INTEGER = re.compile(r"0|-?[1-9][0-9]{0,18}")
_KEY = re.compile(r"[\x21-\x7e]{1,200}")
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
# Free text: anything but NUL and lone surrogates. References: no C0/C1 controls or invisible formatting
# characters anywhere, no space of any kind at either end. Written once, used by Python's `re` (fullmatch)
# and published as JSON Schema patterns (ECMA-262 reads these escapes the same way).
_INVISIBLE = r"\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff"
_SPACE = r" \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
TEXT_PATTERN = r"^[^\x00]*$"  # published; lone surrogates cannot be sent as UTF-8 text at all
REF_PATTERN = rf"^[^{_INVISIBLE}{_SPACE}]([^{_INVISIBLE}]*[^{_INVISIBLE}{_SPACE}])?$"
_TEXT = re.compile(r"[^\x00\ud800-\udfff]*")
_REF = re.compile(REF_PATTERN[1:-1])
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


class CanonicalError(ValueError):
    """A value that is not in its one accepted spelling; the message names what was expected."""


def _text_input(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise CanonicalError(f"{what} must be a string, got {type(value).__name__}")
    return value


def parse_month(value: object) -> str:
    """`YYYY-MM` in ASCII digits, year 0001-9999; returns the same string (its one canonical form)."""
    text = _text_input(value, "month")
    match = _MONTH.fullmatch(text) if text.isascii() else None
    if match is None or int(match.group(1)) < 1:
        raise CanonicalError(f"month must be YYYY-MM in ASCII digits, year from 0001 (e.g. 2026-11), got {text!r}")
    return text


def month_parts(month: str) -> tuple[int, int]:
    """(year, month) of a canonical month."""
    canonical = parse_month(month)
    return int(canonical[:4]), int(canonical[5:])


def parse_date(value: object) -> date:
    """`YYYY-MM-DD` in ASCII digits, a real calendar day with a year from 0001."""
    text = _text_input(value, "date")
    match = _DATE.fullmatch(text) if text.isascii() else None
    if match is None:
        raise CanonicalError(f"date must be YYYY-MM-DD in ASCII digits (e.g. 2026-11-30), got {text!r}")
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as error:
        raise CanonicalError(f"date {text!r} is not a calendar day: {error}") from None


def parse_int(value: object, what: str, low: int, high: int) -> int:
    """An integer in [low, high]: a JSON integer (`5`, or `5.0`, which JSON Schema counts as the same
    integer; not a boolean) or plain ASCII digits."""
    assert low <= high
    if isinstance(value, bool):
        raise CanonicalError(f"{what} must be an integer, got a boolean")
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        value = int(value)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        if not (value.isascii() and _INTEGER.fullmatch(value)):
            raise CanonicalError(f"{what} must be an integer in plain ASCII digits, got {value!r}")
        number = int(value)
    else:
        raise CanonicalError(f"{what} must be an integer, got {type(value).__name__}")
    if not low <= number <= high:
        raise CanonicalError(f"{what} must be between {low} and {high}, got {number}")
    return number


def parse_id(value: object) -> int:
    """A database id: 1 to 2**31-1."""
    return parse_int(value, "id", 1, MAX_ID)


def parse_amount(value: object) -> int:
    """A positive amount of credits that fits a 64-bit column."""
    return parse_int(value, "amount", 1, MAX_AMOUNT)


def parse_idempotency_key(value: object) -> str:
    """1-200 printable ASCII characters, no spaces: the key is compared byte for byte."""
    text = _text_input(value, "Idempotency-Key")
    if not _KEY.fullmatch(text):
        raise CanonicalError("Idempotency-Key must be 1-200 printable ASCII characters without spaces")
    return text


def parse_name(value: object, what: str = "name", max_length: int = 120) -> str:
    """A lowercase ASCII slug (`a-z0-9._-`, starting with a letter or digit): platforms, sites, coalitions."""
    text = _text_input(value, what)
    if len(text) > max_length or not _NAME.fullmatch(text):
        raise CanonicalError(
            f"{what} must be 1-{max_length} lowercase ASCII letters, digits, '.', '_' or '-', got {text[:60]!r}"
        )
    return text


def check_text(value: object, what: str = "text", max_length: int = MAX_TEXT) -> str:
    """Free text: at most `max_length` characters, no NUL (PostgreSQL cannot store it) and no lone
    surrogate (not encodable as UTF-8). Kept as written; `TEXT_PATTERN` says the same in the API schema."""
    text = _text_input(value, what)
    if len(text) > max_length:
        raise CanonicalError(f"{what} must be at most {max_length} characters, got {len(text)}")
    if not _TEXT.fullmatch(text):
        raise CanonicalError(f"{what} must not contain NUL characters or unpaired surrogates")
    return text


def parse_ref(value: object, what: str = "reference", max_length: int = 200) -> str:
    """An identifier someone else chose (an external ref, an account id): no control or invisible
    formatting character, no surrounding space, returned in Unicode NFC (the one form two spellings
    share). The same rule is `REF_PATTERN` in the API schema."""
    text = _text_input(value, what)
    if not 1 <= len(text) <= max_length:
        raise CanonicalError(f"{what} must be 1-{max_length} characters, got {len(text)}")
    if not _REF.fullmatch(text):
        raise CanonicalError(
            f"{what} must have no control or invisible characters and no surrounding space, got {text[:60]!r}"
        )
    canonical = unicodedata.normalize("NFC", text)
    if len(canonical) > max_length:
        raise CanonicalError(f"{what} is longer than {max_length} characters in Unicode NFC")
    return canonical


def fold_text(text: str) -> str:
    """What duplicate checks compare: NFKC (full-width and compatibility forms fold to one), zero-width
    characters removed, case folded and whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)
    return " ".join(folded.split()).casefold()


def text_type(max_length: int, what: str = "text") -> Any:
    """A pydantic type for free text of at most `max_length` characters (see `check_text`)."""
    return Annotated[
        str,
        BeforeValidator(lambda value: check_text(value, what, max_length)),
        WithJsonSchema({"type": "string", "maxLength": max_length, "pattern": TEXT_PATTERN}),
    ]


def ref_type(max_length: int, what: str = "reference") -> Any:
    """A pydantic type for an identifier someone else chose (see `parse_ref`)."""
    return Annotated[
        str,
        BeforeValidator(lambda value: parse_ref(value, what, max_length)),
        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": max_length, "pattern": REF_PATTERN}),
    ]


def int_type(what: str, low: int, high: int, *, text: bool) -> Any:
    """A pydantic integer in [low, high]; `text=True` also takes ASCII digits (path and query parameters),
    `text=False` only a JSON number (bodies: a JSON string is not an integer)."""

    def parse(value: object) -> int:
        if isinstance(value, str) and not text:
            raise CanonicalError(f"{what} must be a JSON integer, got a string")
        return parse_int(value, what, low, high)

    return Annotated[int, BeforeValidator(parse), WithJsonSchema({"type": "integer", "minimum": low, "maximum": high})]


Month = Annotated[
    str,
    BeforeValidator(parse_month),
    WithJsonSchema({"type": "string", "pattern": MONTH_PATTERN, "examples": ["2026-11"]}),
]
Day = Annotated[
    date, BeforeValidator(parse_date), WithJsonSchema({"type": "string", "pattern": DATE_PATTERN, "format": "date"})
]
IdParam = int_type("id", 1, MAX_ID, text=True)
BigIdParam = int_type("id", 1, 2**63 - 1, text=True)  # 64-bit id columns (transfers, feedback)
LimitParam = int_type("limit", 1, 1000, text=True)  # page sizes
Id = int_type("id", 1, MAX_ID, text=False)
Amount = int_type("amount", 1, MAX_AMOUNT, text=False)
IdempotencyKeyValue = Annotated[
    str, BeforeValidator(parse_idempotency_key), WithJsonSchema({"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN})
]
Name = Annotated[
    str,
    BeforeValidator(parse_name),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 120, "pattern": r"^[a-z0-9][a-z0-9._-]*$"}),
]


def typer_callback(parser: Callable[[Any], T]) -> Callable[[Any], T | None]:
    """A Typer option callback that parses with `parser` and turns a refusal into a usage error (exit 2)."""
    import typer

    def callback(value: Any) -> T | None:
        if value is None:
            return None
        try:
            return parser(value)
        except CanonicalError as error:
            raise typer.BadParameter(str(error)) from None

    return callback
