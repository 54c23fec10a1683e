"""Writing the outbox: audit events become notification rows in the same transaction.

`on_audit_event` is called by jit.audit.service.record, the one place every state change
passes through, inside the caller's transaction: the notification exists if and only if
its event does. It reads and inserts, never calls out, so a channel that is down cannot
block or fail the change that caused it.

record() asks for the notifications before it takes the audit chain's lock and inserts
them after the event (`collecting`, `save`): the reads that build a payload are most of
the outbox's work, and under the lock they held up every other audited transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, cast

from tortoise.expressions import Q

from jit.approvals.models import Decision, Delegation, Outcome, StepStatus, TicketStep
from jit.audit.models import AuditEvent
from jit.directory.models import Account, GroupMembership, PermissionSet, User
from jit.directory.queries import live
from jit.notify.models import Notification, NotificationKind
from jit.slack import service as slack_messages
from jit.tickets.models import Target, Ticket

K = NotificationKind
ROLE_ADMINS = "role:admins"
ROLE_AUDITORS = "role:auditors"


# Notifications built for an audit event that is not appended yet (see `collecting`).
_collected: ContextVar[list[Notification] | None] = ContextVar("jit_outbox_collected", default=None)
# The dedupe key of a notification that exists once per audit event: "audit:<event id>",
# filled in by `save` once the event has its id.
PER_EVENT = "audit:<this event>"


def user(user_id: str) -> str:
    return f"user:{user_id}"


@contextmanager
def collecting() -> Iterator[list[Notification]]:
    """Within the block, `write` builds its rows into the list it yields instead of
    inserting them; `save` inserts them."""
    rows: list[Notification] = []
    token = _collected.set(rows)
    try:
        yield rows
    finally:
        _collected.reset(token)


async def save(rows: list[Notification], event: AuditEvent) -> None:
    """Inserts what `collecting` gathered for `event`, now that it has its id."""
    for row in rows:
        if row.dedupe_key == PER_EVENT:
            row.dedupe_key = f"audit:{event.id}"
    if rows:
        await Notification.bulk_create(rows, ignore_conflicts=True)


async def write(
    kind: NotificationKind, dedupe_key: str, at: datetime, recipients: Iterable[str], *,
    ticket: Ticket | None = None, actor_id: str | None = None, detail: dict[str, Any] | None = None,
) -> None:
    """Adds one notification unless one with this key exists. Conflicts are ignored by the
    database, not caught, so a repeat never aborts the caller's PostgreSQL transaction."""
    unique = sorted(set(recipients))
    if not unique:
        return
    # One query for every person the payload names, inside the audited transaction.
    names = await _names(actor_id, *((ticket.requester_id, ticket.principal_id) if ticket else ()))
    payload = {"detail": detail or {}, "actor": names.get(actor_id)}
    if ticket is not None:
        payload["ticket"] = await ticket_facts(ticket, names)
    row = Notification(kind=kind, dedupe_key=dedupe_key, ticket_id=ticket.id if ticket else None,
                       actor_id=actor_id, recipients=unique, payload=payload, created_at=at)
    collected = _collected.get()
    if collected is not None:
        collected.append(row)
        return
    if dedupe_key == PER_EVENT:
        raise ValueError("a per-event notification is written through audit.record")
    await Notification.bulk_create([row], ignore_conflicts=True)


async def on_audit_event(event: AuditEvent) -> None:
    if event.ticket_id is not None:
        # Every Slack message about the ticket may now be out of date: the delivery pass
        # re-renders it (chat.update). In the event's transaction, so a Slack outage loses
        # nothing; before the chain's lock, like the reads below.
        await slack_messages.mark_dirty(event.ticket_id)
    handler = _HANDLERS.get(event.action)
    if handler is not None:
        await handler(event)


# --- what each audit action means for whom ------------------------------------------------

async def _requested(event: AuditEvent) -> None:
    ticket = await Ticket.get_or_none(id=event.ticket_id)
    if ticket is None:  # an event about a ticket that is not (or no longer) there tells nobody
        return
    if ticket.requester_id != ticket.principal_id:
        await write(K.REQUESTED_FOR_YOU, PER_EVENT, event.at, [user(ticket.principal_id)],
                    ticket=ticket, actor_id=event.actor_id, detail=event.detail)
    step = await TicketStep.filter(ticket_id=ticket.id, status=StepStatus.PENDING).order_by("position").first()
    if step is not None:
        await _decision_needed(event, ticket, step)


async def _decision_approved(event: AuditEvent) -> None:
    # Runs before the decision's step is marked complete: if this approval completes it,
    # the approvers of the next step are now needed.
    ticket = await Ticket.get_or_none(id=event.ticket_id)
    if ticket is None:  # an event about a ticket that is not (or no longer) there tells nobody
        return
    pending = await TicketStep.filter(ticket_id=ticket.id, status=StepStatus.PENDING).order_by("position")
    if len(pending) < 2:
        return
    approvals = await Decision.filter(step_id=pending[0].id, outcome=Outcome.APPROVED).count()
    if approvals >= pending[0].required:
        await _decision_needed(event, ticket, pending[1])


async def _decision_needed(event: AuditEvent, ticket: Ticket, step: TicketStep) -> None:
    people = await step_deciders(step, event.at)
    people -= {ticket.requester_id, ticket.principal_id}
    await write(K.DECISION_NEEDED, f"decision-needed:{ticket.id}:{step.position}", event.at,
                map(user, people), ticket=ticket, actor_id=event.actor_id,
                detail={"step": step.name, "rule": step.rule_name, "required": step.required})


async def _extension_requested(event: AuditEvent) -> None:
    detail = event.detail or {}
    required = int(detail.get("steps_required") or 0)
    ticket = await Ticket.get_or_none(id=event.ticket_id)
    if ticket is None or required == 0:
        return
    people: set[str] = set()
    for step in await TicketStep.filter(ticket_id=ticket.id, position__lt=required):
        people |= await step_deciders(step, event.at)
    people -= {ticket.requester_id, ticket.principal_id}
    await write(K.EXTENSION_DECISION_NEEDED, PER_EVENT, event.at, map(user, people), ticket=ticket,
                actor_id=event.actor_id, detail=detail)


async def _reminder(event: AuditEvent) -> None:
    ticket = await Ticket.get_or_none(id=event.ticket_id)
    if ticket is None:  # an event about a ticket that is not (or no longer) there tells nobody
        return
    step = await TicketStep.filter(ticket_id=ticket.id, status=StepStatus.PENDING).order_by("position").first()
    if step is None:
        return
    decided = set(await Decision.filter(ticket_id=ticket.id).values_list("decider_id", flat=True))
    people = await step_deciders(step, event.at) - decided - {ticket.requester_id, ticket.principal_id}
    # The reminder job may run twice; the window it is about is what makes it one reminder.
    deadline = ticket.approval_expires_at.isoformat() if ticket.approval_expires_at else ""
    await write(K.APPROVAL_REMINDER, f"reminder:{ticket.id}:{deadline}", event.at, map(user, people),
                ticket=ticket, detail={"step": step.name, "rule": step.rule_name,
                                       "approval_expires_at": deadline})


def _to_parties(kind: NotificationKind, *, admins: bool = False, when: Callable[[AuditEvent], bool] | None = None,
                ) -> Callable[[AuditEvent], Awaitable[None]]:
    async def handler(event: AuditEvent) -> None:
        if when is not None and not when(event):
            return
        ticket = await Ticket.get_or_none(id=event.ticket_id)
        if ticket is None:  # an event about a ticket that is not (or no longer) there tells nobody
            return
        recipients = {user(ticket.requester_id), user(ticket.principal_id)}
        if admins:
            recipients.add(ROLE_ADMINS)
        await write(kind, PER_EVENT, event.at, recipients, ticket=ticket,
                    actor_id=event.actor_id, detail=event.detail)
    return handler


async def _break_glass(event: AuditEvent) -> None:
    ticket = await Ticket.get_or_none(id=event.ticket_id)
    if ticket is None:  # an event about a ticket that is not (or no longer) there tells nobody
        return
    people: set[str] = set()
    for step in await TicketStep.filter(ticket_id=ticket.id):
        people |= await step_deciders(step, event.at, delegates=False)
    await write(K.BREAK_GLASS, PER_EVENT, event.at, [*map(user, people), ROLE_AUDITORS],
                ticket=ticket, actor_id=event.actor_id, detail=event.detail)


async def _drift(event: AuditEvent) -> None:
    await write(K.DRIFT_FOUND, PER_EVENT, event.at, [ROLE_ADMINS], detail=event.detail)


async def _delegation(event: AuditEvent) -> None:
    after = event.detail.get("after") or {}
    if after.get("delegate"):
        detail = {**after, "delegator_name": await _name(after.get("delegator"))}
        await write(K.DELEGATION_CREATED, PER_EVENT, event.at, [user(after["delegate"])],
                    actor_id=event.actor_id, detail=detail)


def _revoked_by_someone(event: AuditEvent) -> bool:
    return event.actor_id is not None and (event.detail or {}).get("reason") != "expired"


_HANDLERS: dict[str, Callable[[AuditEvent], Awaitable[None]]] = {
    "ticket.requested": _requested,
    "decision.approved": _decision_approved,
    "approval.reminder": _reminder,
    "ticket.scheduled": _to_parties(K.APPROVED),
    "ticket.rejected": _to_parties(K.REJECTED),
    "ticket.expired": _to_parties(K.APPROVAL_EXPIRED),
    "ticket.active": _to_parties(K.GRANTED),
    "ticket.failed": _to_parties(K.FAILED, admins=True),
    "ticket.extended": _to_parties(K.EXTENDED),
    "ticket.revoking": _to_parties(K.REVOKED, when=_revoked_by_someone),
    "ticket.ended": _to_parties(K.ENDED),
    "ticket.break_glass": _break_glass,
    "drift.detected": _drift,
    "delegation.created": _delegation,
    "extension.requested": _extension_requested,
}


# --- who ---------------------------------------------------------------------------------

async def step_deciders(step: TicketStep, at: datetime, *, delegates: bool = True) -> set[str]:
    """User ids of a step's approvers (named users and group members) and, when asked,
    of whoever holds an active delegation from one of them for the step's rule."""
    # Tortoise types a flat values_list as tuples; these are single user ids.
    approvers = set(cast(list[str], await live(User).filter(user_name__in=step.approver_users or [])
                         .values_list("id", flat=True)))
    if step.approver_groups:
        approvers |= set(cast(list[str], await GroupMembership.filter(group__display_name__in=step.approver_groups)
                              .values_list("user_id", flat=True)))
    if not delegates or not approvers:
        return approvers
    rows = await Delegation.filter(
        Q(delegator_id__in=list(approvers)), Q(revoked_at=None), Q(starts_at__lte=at), Q(ends_at__gt=at),
    )
    rule = str(step.rule_id)
    return approvers | {d.delegate_id for d in rows if not d.rule_ids or rule in [str(r) for r in d.rule_ids]}


async def _names(*user_ids: str | None) -> dict[str | None, str | None]:
    """How templates name people: display name, else user name, else the id as given."""
    wanted = {u for u in user_ids if u is not None}
    rows = {r.id: r for r in await User.filter(id__in=wanted)} if wanted else {}
    names: dict[str | None, str | None] = {None: None}
    for user_id in wanted:
        row = rows.get(user_id)
        names[user_id] = (row.display_name or row.user_name) if row else user_id
    return names


async def _name(user_id: str | None) -> str | None:
    return (await _names(user_id))[user_id]


async def ticket_facts(ticket: Ticket, names: dict[str | None, str | None]) -> dict[str, Any]:
    """What the templates say about a ticket, copied now so delivery needs no other table."""
    targets = await Target.filter(ticket_id=ticket.id).order_by("id")
    accounts = {a.id: a.name for a in await Account.filter(id__in=[t.account_id for t in targets])}
    sets = {p.arn: p.name for p in await PermissionSet.filter(arn__in=[t.permission_set_arn for t in targets])}
    return {
        "id": str(ticket.id),
        "status": ticket.status.value if hasattr(ticket.status, "value") else str(ticket.status),
        "requester": names[ticket.requester_id],
        "principal": names[ticket.principal_id],
        "justification": ticket.justification,
        "start_at": ticket.start_at.isoformat(),
        "end_at": ticket.end_at.isoformat(),
        "approval_expires_at": ticket.approval_expires_at.isoformat() if ticket.approval_expires_at else None,
        "targets": [
            {"account": t.account_id, "account_name": accounts.get(t.account_id, ""),
             "permission_set": sets.get(t.permission_set_arn, t.permission_set_arn)}
            for t in targets
        ],
    }

