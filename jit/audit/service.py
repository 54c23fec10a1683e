"""The append-only audit log: the only code that writes audit_event."""

from __future__ import annotations

import uuid
from datetime import datetime

from jit.audit.models import AuditEvent
from jit.notify import outbox


async def record(
    at: datetime,
    actor_id: str | None,
    action: str,
    *,
    ticket_id: uuid.UUID | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    event = await AuditEvent.create(
        at=at, actor_id=actor_id, action=action, ticket_id=ticket_id,
        from_status=from_status, to_status=to_status, detail=detail or {},
    )
    await outbox.on_audit_event(event)  # the notification commits with its event, or neither does
    return event


async def ticket_history(ticket_id: uuid.UUID) -> list[AuditEvent]:
    return await AuditEvent.filter(ticket_id=ticket_id).order_by("id")
