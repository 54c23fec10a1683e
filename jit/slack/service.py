"""The only code that writes slack_message: recording a posted message, marking a ticket's
messages dirty (inside the audited transaction, see jit.notify.outbox.save), and the
outcome of each refresh. Imports nothing above the models, so the audit log can call it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from tortoise.expressions import F

from jit.slack.models import SlackMessage

# A retry cannot fix these; the message is left as it is.
GONE = {"message_not_found", "channel_not_found", "cant_update_message", "edit_window_closed",
        "is_archived", "not_in_channel", "invalid_auth", "account_inactive"}


async def mark_dirty(ticket_id: uuid.UUID | str) -> None:
    await SlackMessage.filter(ticket_id=ticket_id).update(version=F("version") + 1, dirty=True)


async def record_posted(*, ticket_id: uuid.UUID | None, notification_id: int, delivery_id: int, extension_id: str | None,
                        recipient_id: str | None, channel: str, ts: str, rendered_hash: str, now: datetime) -> None:
    """Born dirty: a change that committed between rendering and this insert found no row
    to mark, so the next pass re-renders it (and calls Slack only if it now differs)."""
    await SlackMessage.bulk_create([SlackMessage(
        ticket_id=ticket_id, notification_id=notification_id, delivery_id=delivery_id,
        extension_id=extension_id, recipient_id=recipient_id, channel=channel, ts=ts,
        rendered_hash=rendered_hash, next_attempt_at=now, created_at=now,
    )], ignore_conflicts=True)


async def due(now: datetime, limit: int) -> list[SlackMessage]:
    return await SlackMessage.filter(dirty=True, next_attempt_at__lte=now).order_by("next_attempt_at", "id").limit(limit)


async def refreshed(row: SlackMessage, rendered_hash: str, now: datetime) -> None:
    """Clean only if no event marked it again meanwhile (its version is the one rendered)."""
    await SlackMessage.filter(id=row.id).update(rendered_hash=rendered_hash, updated_at=now, attempts=0, last_error="")
    await SlackMessage.filter(id=row.id, version=row.version).update(dirty=False)


async def failed(row: SlackMessage, error: str, now: datetime, retry_in: float | None) -> None:
    if retry_in is None:
        await SlackMessage.filter(id=row.id).update(dirty=False, last_error=error[:2000])
        return
    await SlackMessage.filter(id=row.id).update(
        attempts=F("attempts") + 1, last_error=error[:2000], next_attempt_at=now + timedelta(seconds=retry_in))
