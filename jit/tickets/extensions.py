"""Extensions: moving a SCHEDULED or ACTIVE ticket's end later. The only code that writes
extensions and a ticket's end after the request.

An approved extension changes `end_at` in place and queues a revoke job for the new end;
the job queued for the old end finds the ticket not yet due and does nothing. Access is
never revoked and granted again, so there is no gap. The ticket's version is not bumped:
it is the optimistic lock of the grant and revoke jobs' transitions, and an extension must
not make an in-flight job's transition fail. The end itself is the optimistic lock here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from tortoise.expressions import F

from jit.approvals.models import TicketStep
from jit.audit.service import record
from jit.directory.models import User
from jit.errors import NotAllowed, NotFound, ValidationFailed, WrongState
from jit.rules.models import ApprovalRule
from jit.runtime import Effects, Runtime
from jit.tickets.models import Extension, ExtensionStatus, Target, Ticket, TicketStatus
from jit.tickets import plan
from jit.tickets.service import get_readable_ticket, ticket_parties

S = TicketStatus
E = ExtensionStatus
EXTENDABLE = (S.SCHEDULED, S.ACTIVE)
MAX_REASON = 4000


@dataclass(frozen=True)
class ExtensionPolicy:
    """The combined extension settings of every rule governing a ticket (the strictest wins)."""

    steps_required: int  # the first N steps of the ticket, by position
    max_total_duration_seconds: int
    max_extensions: int


async def governing_rules(ticket: Ticket) -> list[ApprovalRule]:
    rule_ids = set(await Target.filter(ticket_id=ticket.id).values_list("rule_id", flat=True))
    rule_ids |= set(await TicketStep.filter(ticket_id=ticket.id).values_list("rule_id", flat=True))
    return await ApprovalRule.filter(id__in=list(rule_ids))


async def extension_policy(ticket: Ticket) -> ExtensionPolicy:
    rules = await governing_rules(ticket)
    steps = await TicketStep.filter(ticket_id=ticket.id).order_by("position").values("rule_id", "step_index")
    if not rules:
        raise NotAllowed("the rules that governed this ticket no longer exist, so it cannot be extended",
                         field="ticketId")
    needed = 0
    for rule in rules:
        ext = rule.extension
        if not ext:
            raise NotAllowed(f"rule {rule.name!r} does not allow extensions", field="ticketId")
        if ext.get("requires_approval", True):
            own = sum(1 for s in steps if str(s["rule_id"]) == str(rule.id))
            wanted = own if ext.get("steps") is None else min(int(ext["steps"]), own)
            # Positions are strictest rule first, so a prefix long enough for this rule's
            # share covers it.
            last = [i for i, s in enumerate(steps) if str(s["rule_id"]) == str(rule.id)][:wanted]
            needed = max(needed, (last[-1] + 1) if last else 0)
    return ExtensionPolicy(
        steps_required=needed,
        max_total_duration_seconds=min(int(r.extension.get("max_total_duration_seconds", r.max_duration_seconds))
                                       for r in rules),
        max_extensions=min(int(r.extension.get("max_extensions", 1)) for r in rules),
    )


async def get_extension(extension_id: str) -> Extension:
    try:
        key = uuid.UUID(str(extension_id))
    except ValueError:
        raise ValidationFailed(f"{extension_id!r} is not a valid id", field="extensionId") from None
    row = await Extension.get_or_none(id=key)
    if row is None:
        raise NotFound(f"extension {extension_id} not found", field="extensionId")
    return row


def expire_job_id(extension: Extension) -> str:
    return f"extensions.expire:{extension.id}"


async def request_extension(
    rt: Runtime, actor: User, ticket_id: str, additional_seconds: int, reason: str
) -> Extension:
    ticket = await get_readable_ticket(rt, actor.id, ticket_id)
    if not await rt.authz.may_extend(actor.id, await ticket_parties(ticket)):
        raise NotAllowed("only the requester or the principal may ask to extend a ticket", field="ticketId")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("an extension needs a reason", field="reason")
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"reason is longer than {MAX_REASON} characters", field="reason")
    if additional_seconds <= 0:
        raise ValidationFailed("the additional duration must be positive", field="additionalDurationSeconds")
    now = rt.clock.now()
    async with rt.unit_of_work() as effects:
        # Lock the ticket row so two extension requests cannot both pass the checks.
        await Ticket.filter(id=ticket.id).update(end_at=F("end_at"))
        ticket = await Ticket.get(id=ticket.id)
        if ticket.status not in EXTENDABLE or now >= ticket.end_at:
            raise WrongState(
                f"only a scheduled or active ticket can be extended; this one is {ticket.status.value}",
                current=ticket.status.value, field="ticketId",
            )
        policy = await extension_policy(ticket)
        if await Extension.filter(ticket_id=ticket.id, status=E.PENDING).exists():
            raise ValidationFailed("an extension of this ticket is already waiting for approval", field="ticketId")
        used = await Extension.filter(ticket_id=ticket.id, status__in=[E.PENDING, E.APPROVED]).count()
        if used >= policy.max_extensions:
            raise ValidationFailed(
                f"this ticket has had its {policy.max_extensions} extension(s)", field="ticketId"
            )
        total = (ticket.end_at - ticket.start_at).total_seconds() + additional_seconds
        if total > policy.max_total_duration_seconds:
            raise ValidationFailed(
                f"the ticket would last {int(total)} seconds; its rules allow at most "
                f"{policy.max_total_duration_seconds} in total",
                field="additionalDurationSeconds",
            )
        window = min(
            (r.approval_window_seconds or 86400 for r in await governing_rules(ticket)), default=86400
        )
        extension = await Extension.create(
            id=uuid.uuid4(), ticket_id=ticket.id, requester_id=actor.id, additional_seconds=additional_seconds,
            reason=reason, status=E.PENDING, steps_required=policy.steps_required,
            expires_at=min(now + timedelta(seconds=window), ticket.end_at), previous_end_at=ticket.end_at,
            created_at=now,
        )
        await record(
            now, actor.id, "extension.requested", ticket_id=ticket.id,
            detail={"extension": str(extension.id), "additional_seconds": additional_seconds, "reason": reason,
                    "steps_required": policy.steps_required},
        )
        if policy.steps_required == 0:
            await apply_extension(rt, effects, extension, actor.id, "no approval required")
        else:
            effects.enqueue("extensions.expire", str(extension.id), job_id=expire_job_id(extension),
                            defer_until=extension.expires_at)
    return extension


async def apply_extension(rt: Runtime, effects: Effects, extension: Extension, actor_id: str | None, why: str) -> None:
    """Moves the ticket's end; call inside the unit of work that approved the extension."""
    now = rt.clock.now()
    ticket = await Ticket.get(id=extension.ticket_id)
    new_end = ticket.end_at + timedelta(seconds=extension.additional_seconds)
    # A revoke a burst moved earlier for the old end is planned afresh for the new one.
    moved = await Ticket.filter(
        id=ticket.id, status__in=[S.SCHEDULED, S.GRANTING, S.ACTIVE], end_at=ticket.end_at, end_at__gt=now,
    ).update(end_at=new_end, updated_at=now, revoke_at=None)
    if moved != 1:
        raise WrongState("the ticket ended or changed before the extension could be applied",
                         current=ticket.status.value, field="extensionId")
    await Extension.filter(id=extension.id).update(status=E.APPROVED, new_end_at=new_end, decided_at=now)
    extension.status, extension.new_end_at, extension.decided_at = E.APPROVED, new_end, now
    await record(
        now, actor_id, "ticket.extended", ticket_id=ticket.id,
        before={"end_at": ticket.end_at}, after={"end_at": new_end},
        detail={"extension": str(extension.id), "reason": why, "previous_end_at": ticket.end_at.isoformat(),
                "end_at": new_end.isoformat(), "additional_seconds": extension.additional_seconds},
    )
    ticket.end_at, ticket.revoke_at = new_end, None
    # The job for the old end will find the ticket not yet due; this one ends it on time
    # (a grant still running schedules its own from the new end).
    plan.schedule_planned_revoke(rt, effects, ticket)


async def close_extension(rt: Runtime, extension: Extension, status: ExtensionStatus, actor_id: str | None,
                          why: str) -> None:
    """Rejects or expires a pending extension; the ticket's end is left as it was."""
    now = rt.clock.now()
    updated = await Extension.filter(id=extension.id, status=E.PENDING).update(status=status, decided_at=now)
    if updated != 1:
        raise WrongState("the extension has already been decided", current=extension.status.value,
                         field="extensionId")
    extension.status, extension.decided_at = status, now
    await record(
        now, actor_id, f"extension.{status.value.lower()}", ticket_id=extension.ticket_id,
        detail={"extension": str(extension.id), "reason": why},
    )


async def expire_extension(rt: Runtime, extension_id: str) -> str:
    """The `extensions.expire` job: a pending extension past its deadline expires."""
    extension = await Extension.get_or_none(id=extension_id)
    if extension is None:
        return "missing"
    if extension.status != E.PENDING:
        return "done"
    if rt.clock.now() < extension.expires_at:
        return "early"
    try:
        async with rt.unit_of_work():
            await close_extension(rt, extension, E.EXPIRED, None, "not approved in time")
    except WrongState:
        return "done"
    return "expired"
