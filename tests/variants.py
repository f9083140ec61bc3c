"""Hypothesis strategies for the other spellings of a value: Unicode digits, whitespace and newlines.

Each strategy takes a canonical value (e.g. "2026-12") and draws a string that reads the same to a human
or to a lax parser (`int()`, `\\d`, `$`) but is not the canonical spelling, so it must be refused.
"""

from __future__ import annotations

import sys
import unicodedata

from hypothesis import strategies as st

FULLWIDTH_MONTH = "\uff12\uff10\uff12\uff16-12"  # 2026-12 in full-width digits, as in issue 10

# Every non-ASCII decimal digit, grouped by its value: `int()` and `\d` accept all of them.
UNICODE_DIGITS: dict[str, list[str]] = {str(d): [] for d in range(10)}
for _code in range(0x80, sys.maxunicode + 1):
    _char = chr(_code)
    if unicodedata.category(_char) == "Nd":
        UNICODE_DIGITS[str(unicodedata.digit(_char))].append(_char)

WHITESPACE = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()] + ["\u200b", "\ufeff", "\x00"]


@st.composite
def other_spellings(draw: st.DrawFn, canonical: str) -> str:
    """`canonical` with at least one digit replaced by a Unicode digit, or wrapped in whitespace."""
    digits = [i for i, char in enumerate(canonical) if char.isascii() and char.isdigit()]
    how = draw(st.sampled_from(["digit", "prefix", "suffix", "newline"] if digits else ["prefix", "suffix", "newline"]))
    if how == "digit":
        chosen = draw(st.lists(st.sampled_from(digits), min_size=1, unique=True))
        chars = list(canonical)
        for index in chosen:
            chars[index] = draw(st.sampled_from(UNICODE_DIGITS[chars[index]]))
        return "".join(chars)
    space = draw(st.text(st.sampled_from(WHITESPACE), min_size=1, max_size=3))
    if how == "prefix":
        return space + canonical
    if how == "suffix":
        return canonical + space
    return canonical + "\n"
