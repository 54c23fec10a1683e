"""The hash chain: how an event is hashed, and how the chain is checked.

Each event's hash is sha256 over the canonical JSON of its fields and the previous
event's hash. Canonical means sorted keys, no whitespace, UTF-8, timestamps in UTC with
microseconds: what PostgreSQL and SQLite both hand back unchanged, so the hash a writer
computed is the hash a verifier recomputes from the stored row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

# The fields the hash covers, in the order `jit audit export` writes them.
HASHED_FIELDS = (
    "seq", "at", "actor_id", "on_behalf_of", "action", "subject_type", "subject_id",
    "ticket_id", "from_status", "to_status", "detail", "before", "after", "prev_hash",
)


def plain(value: Any) -> Any:
    """A JSON value as the database will return it (datetimes and UUIDs become strings)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=_text, sort_keys=True))


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return timestamp(value)
    return str(value)


def timestamp(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: dict[str, Any]) -> bytes:
    body = {name: fields.get(name) for name in HASHED_FIELDS}
    body["at"] = timestamp(body["at"]) if isinstance(body["at"], datetime) else body["at"]
    if body["ticket_id"] is not None:
        body["ticket_id"] = str(body["ticket_id"])
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_text).encode()


def event_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


def fields_of(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in HASHED_FIELDS}


@dataclass
class Break:
    """The first event at which the chain does not hold, and why."""

    event_id: int | None
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f"event {self.event_id} (seq {self.seq})" if self.event_id is not None else f"after seq {self.seq}"
        return f"{where}: {self.reason}"


class Walker:
    """Checks events one at a time, in seq order, from a starting point (genesis or a
    pruning checkpoint). Kept incremental so verify streams a large table in batches."""

    def __init__(self, start_seq: int, start_hash: str) -> None:
        self.seq = start_seq
        self.hash = start_hash
        self.count = 0

    def step(self, row: Any) -> Break | None:
        expected = self.seq + 1
        if row.seq != expected:
            if row.seq > expected:
                missing = f"seq {expected}" if row.seq == expected + 1 else f"seq {expected}..{row.seq - 1}"
                reason = f"{missing} missing before it (deleted events)"
            else:
                reason = f"seq {row.seq} repeats or goes back (expected {expected}): a forked or inserted event"
            return Break(row.id, row.seq, reason)
        if row.prev_hash != self.hash:
            return Break(row.id, row.seq, "prev_hash does not match the previous event's hash "
                                          "(the event before it was edited and re-hashed, or replaced)")
        computed = event_hash(fields_of(row))
        if computed != row.hash:
            return Break(row.id, row.seq, "its contents do not match its hash (the row was edited)")
        self.seq, self.hash = row.seq, row.hash
        self.count += 1
        return None
