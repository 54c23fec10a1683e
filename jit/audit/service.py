"""The append-only audit log: the only code that writes audit_event and audit_chain.

`record` is the single choke point every state change goes through, inside the caller's
transaction, so an event exists exactly when its change committed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from jit.audit.chain import GENESIS, event_hash, plain
from jit.audit.models import AuditChain, AuditEvent
from jit.auth.acting import credential_ref
from jit.notify import outbox

CHAIN_ROW = 1


async def chain_head(*, lock: bool) -> AuditChain:
    """The chain's one row, created on first use. With lock=True it is held FOR UPDATE until
    the surrounding transaction ends: on PostgreSQL concurrent appenders queue here (SQLite
    serializes writers already)."""
    query = AuditChain.filter(id=CHAIN_ROW)
    if lock:
        query = query.select_for_update()
    head = await query.first()
    if head is None:
        await AuditChain.get_or_create(
            id=CHAIN_ROW, defaults={"head_hash": GENESIS, "checkpoint_hash": GENESIS}
        )
        query = AuditChain.filter(id=CHAIN_ROW)
        head = await (query.select_for_update() if lock else query).get()
    return head


def _subject(action: str, subject_type: str | None, subject_id: Any,
             ticket_id: uuid.UUID | str | None) -> tuple[str | None, str | None]:
    if subject_type is None:
        subject_type = "ticket" if ticket_id is not None else action.split(".", 1)[0]
    if subject_id is None and ticket_id is not None and subject_type == "ticket":
        subject_id = ticket_id
    return subject_type, None if subject_id is None else str(subject_id)


async def record(
    at: datetime,
    actor_id: str | None,
    action: str,
    *,
    ticket_id: uuid.UUID | str | None = None,  # a str is stored as the UUID it spells
    from_status: str | None = None,
    to_status: str | None = None,
    detail: dict[str, Any] | None = None,
    on_behalf_of: str | None = None,
    subject_type: str | None = None,
    subject_id: Any = None,
    before: Any = None,
    after: Any = None,
) -> AuditEvent:
    """Appends one event to the chain. The subject defaults to the ticket, or to the
    action's domain ("rule.created" -> rule); a status transition is its own before/after."""
    subject_type, subject_id = _subject(action, subject_type, subject_id, ticket_id)
    # Older callers carry the change in detail; the columns are what queries and SIEMs read.
    if before is None and detail and "before" in detail:
        before = detail["before"]
    if after is None and detail and "after" in detail:
        after = detail["after"]
    if on_behalf_of is None and detail and detail.get("on_behalf_of"):
        on_behalf_of = str(detail["on_behalf_of"])
    # The token or session that acted (jit.auth.acting), kept in the hashed detail.
    credential = credential_ref()
    if credential is not None and actor_id is not None and not (detail and "credential" in detail):
        detail = {**(detail or {}), "credential": credential}
    if before is None and from_status is not None:
        before = {"status": from_status}
    if after is None and to_status is not None:
        after = {"status": to_status}
    fields: dict[str, Any] = {
        "at": at, "actor_id": actor_id, "on_behalf_of": on_behalf_of, "action": action,
        "subject_type": subject_type, "subject_id": subject_id, "ticket_id": ticket_id,
        "from_status": from_status, "to_status": to_status, "detail": plain(detail or {}),
        "before": plain(before), "after": plain(after),
    }
    # A savepoint inside the caller's transaction, or a transaction of its own when the
    # caller has none: the head's lock must be held until the event is committed.
    async with in_transaction():
        # Who is told, and what, is read before the chain's lock is taken: every audited
        # transaction waits on that lock, so it covers the append alone. The notification
        # rows are inserted with the event: both commit, or neither does.
        event = AuditEvent(**fields)
        with outbox.collecting() as notifications:
            await outbox.on_audit_event(event)
        head = await chain_head(lock=True)
        event.seq = fields["seq"] = head.head_seq + 1
        event.prev_hash = fields["prev_hash"] = head.head_hash
        event.hash = fields["hash"] = event_hash(fields)
        await event.save()
        await AuditChain.filter(id=CHAIN_ROW).update(head_seq=fields["seq"], head_hash=fields["hash"])
        await outbox.save(notifications, event)
    return event


async def ticket_histories(ticket_ids: Sequence[str]) -> list[list[AuditEvent]]:
    """Each ticket's history, oldest first, in one query (the API's dataloader)."""
    ids = []
    for t in set(ticket_ids):
        try:
            ids.append(uuid.UUID(t))
        except ValueError:
            continue
    by_ticket: dict[str, list[AuditEvent]] = {t: [] for t in ticket_ids}
    for event in await AuditEvent.filter(ticket_id__in=ids).order_by("seq"):
        by_ticket.setdefault(str(event.ticket_id), []).append(event)
    return [by_ticket[t] for t in ticket_ids]
