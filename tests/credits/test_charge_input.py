"""The one charge parser: which bodies are charges, and the specific 422 for each that is not."""

from __future__ import annotations

import pytest
from fastapi.exceptions import RequestValidationError

from datalever.credits.charge_input import ChargeIn, parse_charge_body

JSON = ["application/json"]


@pytest.mark.parametrize(
    ("content_types", "body", "reference"),
    [
        ([], b"", None),  # no body at all, whatever the content type
        (["text/plain"], b"", None),
        (JSON, b"null", None),
        (JSON, b" null\n", None),
        (JSON, b"{}", None),
        (["application/json; charset=utf-8"], b'{"reference": "gw-1"}', "gw-1"),
        (["APPLICATION/JSON"], b'{"reference": "gw-2"}', "gw-2"),
        (["application/vnd.api+json"], b'{"reference": null}', None),
    ],
)
def test_charges_it_accepts(content_types: list[str], body: bytes, reference: str | None) -> None:
    assert parse_charge_body(content_types, body) == ChargeIn(reference=reference)


@pytest.mark.parametrize(
    ("content_types", "body", "loc", "message"),
    [
        (["text/plain"], b"{}", ["body"], "must be JSON"),
        ([], b"{}", ["body"], "must be JSON"),
        (["application/json", "application/json"], b"{}", ["body"], "must be JSON"),  # two content types
        (["application/jsonx"], b"{}", ["body"], "must be JSON"),
        (JSON, b"not json", ["body"], "Invalid JSON"),
        (JSON, b"\xff", ["body"], "Invalid JSON"),  # not UTF-8
        (JSON, b"[]", ["body"], "Input should be an object"),
        (JSON, b'{"reference": 5}', ["body", "reference"], "valid string"),
        (JSON, b'{"reference": "' + b"r" * 201 + b'"}', ["body", "reference"], "at most 200 characters"),
        (JSON, b'{"extra": 1}', ["body", "extra"], "Extra inputs are not permitted"),
    ],
)
def test_refusals_are_specific(content_types: list[str], body: bytes, loc: list[str], message: str) -> None:
    with pytest.raises(RequestValidationError) as refused:
        parse_charge_body(content_types, body)
    [error] = refused.value.errors()
    assert list(error["loc"]) == loc and message in error["msg"]
