"""Ids as callers send them: ASCII digits only.

Python's int() and str.isdigit() accept any Unicode decimal digit, so "١٢" (Arabic-Indic)
was token 12, and int() also takes "+12", " 12 " and "1_2". An id is what we print.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]{1,18}")


def is_digits(text: str) -> bool:
    """True for a non-empty run of ASCII digits (at most 18, so it fits a bigint)."""
    return _DIGITS.fullmatch(text) is not None


def int_id(text: object) -> int | None:
    """The integer an id names, or None when it is not plain ASCII digits."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    return int(text) if isinstance(text, str) and is_digits(text) else None
