"""Reading the audit log: filtered pages for the API, and streams for `jit audit export`."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from tortoise.queryset import QuerySet

from jit.audit.chain import HASHED_FIELDS, timestamp
from jit.audit.models import AuditEvent
from jit.errors import ValidationFailed
from jit.ids import is_digits

MAX_PAGE = 500


@dataclass
class AuditFilter:
    actor_id: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    ticket_id: str | None = None
    actions: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None

    def check(self) -> None:
        if self.ticket_id is not None:
            try:
                self.ticket_id = str(uuid.UUID(self.ticket_id))
            except ValueError:
                raise ValidationFailed(f"{self.ticket_id!r} is not a ticket id", field="ticketId") from None
        if self.since and self.until and self.since >= self.until:
            raise ValidationFailed("since must be before until", field="since")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValidationFailed(f"{name} needs a time zone (for example 2026-01-01T00:00:00Z)", field=name)


_LOOKUPS = (("actor_id", "actor_id"), ("subject_type", "subject_type"), ("subject_id", "subject_id"), ("ticket_id", "ticket_id"),
            ("actions", "action__in"), ("since", "at__gte"), ("until", "at__lt"))


def _query(flt: AuditFilter) -> QuerySet[AuditEvent]:
    q = AuditEvent.all()
    for name, lookup in _LOOKUPS:
        value = getattr(flt, name)
        if value:
            q = q.filter(**{lookup: value})
    return q


def encode_cursor(event: AuditEvent) -> str:
    return f"seq:{event.seq}"


def decode_cursor(cursor: str) -> int:
    kind, _, value = cursor.partition(":")
    if kind != "seq" or not is_digits(value):
        raise ValidationFailed(f"{cursor!r} is not an audit cursor", field="after")
    return int(value)


async def list_events(flt: AuditFilter, first: int, after: str | None) -> tuple[list[AuditEvent], bool]:
    """Oldest first by seq (the chain's order), `first` at a time after the cursor."""
    flt.check()
    if not 1 <= first <= MAX_PAGE:
        raise ValidationFailed(f"first must be between 1 and {MAX_PAGE}", field="first")
    q = _query(flt)
    if after:
        q = q.filter(seq__gt=decode_cursor(after))
    rows = await q.order_by("seq").limit(first + 1)
    return rows[:first], len(rows) > first


def as_record(event: AuditEvent) -> dict[str, Any]:
    """One event as a JSON object with every hashed field, so a SIEM can re-check the chain."""
    out = {name: getattr(event, name) for name in HASHED_FIELDS}
    out["at"] = timestamp(event.at)
    out["ticket_id"] = str(event.ticket_id) if event.ticket_id else None
    return {"id": event.id, **out, "hash": event.hash}


async def stream(flt: AuditFilter, batch: int = 1000) -> AsyncIterator[AuditEvent]:
    flt.check()
    cursor = 0
    while True:
        rows = await _query(flt).filter(seq__gt=cursor).order_by("seq").limit(batch)
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        cursor = rows[-1].seq


async def export_jsonl(flt: AuditFilter, out: TextIO) -> int:
    count = 0
    async for event in stream(flt):
        out.write(json.dumps(as_record(event), sort_keys=True, ensure_ascii=False) + "\n")
        count += 1
    return count
