"""Arguments people type: durations (90m, 2h, 1d, 1h30m) and start times."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from jit.client.errors import ClientError, ExitCode
from jit.durations import typed_seconds


def parse_duration(text: str, option: str = "--duration") -> int:
    """Seconds in `90m`, `2h`, `1d` or `1h30m`; a bare number is minutes."""
    try:
        return typed_seconds(text, bare_unit="m")
    except ValueError as error:
        raise ClientError(f"{option}: {error}", ExitCode.USAGE) from None


def parse_time(text: str, now: datetime, option: str = "--start") -> datetime:
    """`now`, `+30m` / `in 30m` (from now), or ISO 8601; a time without a zone is local time."""
    value = text.strip()
    if value.lower() == "now":
        return now
    relative = value[1:] if value.startswith("+") else value[3:] if value.lower().startswith("in ") else None
    if relative is not None:
        return now + timedelta(seconds=parse_duration(relative, option))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ClientError(f"{option}: cannot read {text!r}; use an ISO 8601 time such as 2030-01-31T09:00 "
                          "or a delay such as +30m", ExitCode.USAGE) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # the local zone, as the person typing meant
    return moment.astimezone(UTC)


def ticket_id(text: str, what: str = "ticket") -> str:
    """Ids are UUIDs; a typo is caught here rather than sent."""
    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        raise ClientError(f"not a{'n' if what[0] in 'aeiou' else ''} {what} id: {text!r}", ExitCode.USAGE) from None


def format_duration(seconds: int) -> str:
    out, rest = [], int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(out) or "0s"
