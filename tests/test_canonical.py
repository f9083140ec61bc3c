"""The canonical parsers accept exactly one spelling of each value and refuse every other one."""

from __future__ import annotations

from datetime import date

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from datalever import canonical
from datalever.canonical import CanonicalError
from tests.variants import FULLWIDTH_MONTH, other_spellings

months = st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(1, 9999), st.integers(1, 12))
days = st.dates(min_value=date(1, 1, 1)).map(lambda d: d.isoformat())
ids = st.integers(1, canonical.MAX_ID).map(str)


@given(months)
def test_month_round_trips(month: str) -> None:
    assert canonical.parse_month(month) == month


@given(months.flatmap(other_spellings))
def test_month_other_spellings_refused(text: str) -> None:
    with pytest.raises(CanonicalError):
        canonical.parse_month(text)


@pytest.mark.parametrize("text", ["0000-01", "2026-13", "2026-00", "2026-1", "26-01", FULLWIDTH_MONTH, "2026-12\n", ""])
def test_month_refusals(text: str) -> None:
    with pytest.raises(CanonicalError, match="YYYY-MM"):
        canonical.parse_month(text)


@given(days)
def test_date_round_trips(text: str) -> None:
    assert canonical.parse_date(text).isoformat() == text


@given(days.flatmap(other_spellings))
def test_date_other_spellings_refused(text: str) -> None:
    with pytest.raises(CanonicalError):
        canonical.parse_date(text)


def test_date_not_a_day() -> None:
    with pytest.raises(CanonicalError, match="not a calendar day"):
        canonical.parse_date("2026-02-30")


@given(ids.flatmap(other_spellings))
def test_id_other_spellings_refused(text: str) -> None:
    with pytest.raises(CanonicalError):
        canonical.parse_id(text)


@pytest.mark.parametrize("value", [0, -1, 2**31, True, 1.5, "+1", "01", "1_000", " 1", "1.0", None])
def test_id_refusals(value: object) -> None:
    with pytest.raises(CanonicalError):
        canonical.parse_id(value)


def test_amount_within_64_bits() -> None:
    assert canonical.parse_amount(2**63 - 1) == 2**63 - 1
    with pytest.raises(CanonicalError, match="between 1 and"):
        canonical.parse_amount(2**63)


@given(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=200))
def test_idempotency_key_printable_ascii(key: str) -> None:
    assert canonical.parse_idempotency_key(key) == key


@given(st.text(min_size=1, max_size=20).filter(lambda t: not t.isascii() or " " in t or not t.isprintable()))
def test_idempotency_key_other_text_refused(key: str) -> None:
    with pytest.raises(CanonicalError):
        canonical.parse_idempotency_key(key)


@pytest.mark.parametrize("text", ["a\x00b", "x" * 4001, "\ud800"])
def test_text_refusals(text: str) -> None:
    with pytest.raises(CanonicalError):
        canonical.check_text(text)


def test_text_keeps_newlines_and_unicode() -> None:
    assert canonical.check_text("línea 1\nline 2\t✓") == "línea 1\nline 2\t✓"


@pytest.mark.parametrize("text", [" ref", "ref ", "re\u200bf", "re\nf", "", "\u3000ref", "a\x85b", "x" * 201])
def test_ref_refusals(text: str) -> None:
    with pytest.raises(CanonicalError):
        canonical.parse_ref(text)


def test_ref_is_nfc() -> None:
    assert canonical.parse_ref("Jose\u0301") == "Jos\u00e9"


def test_fold_text_nfkc_and_zero_width() -> None:
    assert canonical.fold_text("\uff27\uff52\uff45\uff41\uff54\u200b  ANSWER\ufeff") == canonical.fold_text(
        "great answer"
    )


class Body(BaseModel):
    month: canonical.Month
    member_id: canonical.Id
    amount: canonical.Amount


def test_pydantic_types() -> None:
    assert Body.model_validate({"month": "2026-12", "member_id": 3, "amount": 5}).month == "2026-12"
    for bad in ({"month": FULLWIDTH_MONTH}, {"member_id": "3"}, {"amount": 2**63}, {"member_id": True}):
        with pytest.raises(ValidationError):
            Body.model_validate({"month": "2026-12", "member_id": 3, "amount": 5} | bad)


def test_typer_callback() -> None:
    callback = canonical.typer_callback(canonical.parse_month)
    assert callback("2026-12") == "2026-12"
    assert callback(None) is None
    with pytest.raises(typer.BadParameter, match="YYYY-MM"):
        callback(FULLWIDTH_MONTH)


@given(st.text(min_size=1, max_size=30))
def test_ref_agrees_with_its_published_pattern(text: str) -> None:
    """The API schema's pattern and the parser accept exactly the same strings (schemathesis relies on it)."""
    import re

    matches = re.fullmatch(canonical.REF_PATTERN[1:-1], text) is not None  # ECMA `$`: end of text only
    try:
        canonical.parse_ref(text)
        accepted = True
    except CanonicalError:
        accepted = False
    assert accepted == matches
