"""The two kinds of duration JIT reads, parsed in one place.

- What AWS stores: a permission set's session duration, ISO 8601 (`PT1H`, `PT1H30M`).
- What people type: `90m`, `2h`, `1d`, `1h30m`, `2w` (the CLI, the client, token expiry).

Standard library only: the command-line client imports it too."""

from __future__ import annotations

import re

# AWS's longest session: what an unreadable session duration counts as, so that nothing that
# depends on a session's end (revoking it, reading what it did) stops short of it.
MAX_AWS_SESSION_SECONDS = 12 * 3600

_ISO = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)([smhdw])")


def session_seconds(iso: str | None) -> int:
    """A permission set's session duration in seconds (PT1H -> 3600, PT1H30M -> 5400); an
    unreadable or empty value counts as AWS's maximum."""
    found = _ISO.match(iso or "")
    if not found or not any(found.groups()):
        return MAX_AWS_SESSION_SECONDS
    hours, minutes, seconds = (int(g or 0) for g in found.groups())
    return hours * 3600 + minutes * 60 + seconds


def typed_seconds(text: str, bare_unit: str = "m") -> int:
    """Seconds in a duration a person typed: `90m`, `2h`, `1d`, `1h30m`, `2w`; a bare number
    is in `bare_unit`. Raises ValueError, with what was wrong, for anything else and for zero."""
    value = text.strip().lower()
    if value.isdigit():
        seconds = int(value) * _UNITS[bare_unit]
    else:
        parts = _PART.findall(value)
        if not parts or "".join(n + u for n, u in parts) != value:
            raise ValueError(f"cannot read {text!r}; use for example 90m, 2h, 1d or 1h30m")
        seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    return seconds
