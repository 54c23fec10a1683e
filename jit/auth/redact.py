"""Keeps secrets out of logs: tokens, session cookies, Authorization headers, OIDC codes.

Installed as the log record factory, so every record from every library is cleaned
when it is made, before any handler (or a test's log capture) sees it.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

_PATTERNS = [
    (re.compile(r"jit_[A-Za-z0-9_\-]{20,}"), "jit_[REDACTED]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+"), r"\1 [REDACTED]"),
    (re.compile(r"(?i)((?:__Host-)?jit_(?:session|csrf|oidc_state)=)[^;\s'\"&]+"), r"\1[REDACTED]"),
    (re.compile(r"(?i)([?&](?:code|state|session_state|id_token|access_token|refresh_token|code_verifier)=)[^&\s'\"]+"),
     r"\1[REDACTED]"),
    (re.compile(r"(?i)('?(?:authorization|cookie|set-cookie|x-jit-csrf)'?\s*[:=,]\s*'?)[^'\n]+"), r"\1[REDACTED]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _clean(value: object) -> object:
    # Objects whose text holds a secret (a header list, an exception) are replaced by
    # their cleaned text; plain numbers and the like pass untouched.
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


_installed = False


def install_log_redaction() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        # Clean the template and each argument in place: some formatters (uvicorn's access
        # log) read record.args themselves, so they must keep their shape.
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _clean(v) for k, v in record.args.items()}
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is the caller's bug, not ours to hide
            return record
        cleaned = redact(message)
        if cleaned != message:  # the secret is in the template, or spans arguments
            record.msg, record.args = cleaned, ()
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return record

    logging.setLogRecordFactory(factory)
