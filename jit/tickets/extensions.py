"""Extensions: moving a SCHEDULED or ACTIVE ticket's end later, in one place: the policy
its rules set, the request, the decisions, and the move of the end. The only code that
writes extensions and a ticket's end after the request.

An extension passes the first `steps_required` steps of its ticket, with the same
approvers and quorum rules as the ticket itself (jit.approvals.quorum).

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

from jit.approvals import quorum
from jit.approvals.models import Outcome
from jit.audit.service import record
from jit.auth.acting import require_own_credential
from jit.directory.models import User
from jit.errors import NotAllowed, NotFound, ValidationFailed, WrongState
from jit.rules.models import ApprovalRule
from jit.runtime import Effects, Runtime
from jit.tickets import plan
from jit.tickets.locks import lock_extension, lock_ticket
from jit.tickets.models import Extension, ExtensionStatus, Ticket, TicketStatus, TicketStep
from jit.tickets.service import get_readable_ticket, governing_rule_ids, ticket_parties

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
    return await ApprovalRule.filter(id__in=list(await governing_rule_ids(ticket.id)))


async def extension_policy(ticket: Ticket) -> ExtensionPolicy:
    rules = await governing_rules(ticket)
    steps = await TicketStep.filter(ticket_id=ticket.id).order_by("position").values("rule_id", "step_index")
    if not rules:
        raise NotAllowed("the rules that governed this ticket no longer exist, so it cannot be extended",
                         field="ticketId")
    needed = 0
    policies = []
    for rule in rules:
        ext = rule.spec.extension
        if ext is None:
            raise NotAllowed(f"rule {rule.name!r} does not allow extensions", field="ticketId")
        policies.append(ext)
        if ext.requires_approval:
            own = sum(1 for s in steps if str(s["rule_id"]) == str(rule.id))
            wanted = own if ext.steps is None else min(ext.steps, own)
            # Positions are strictest rule first, so a prefix long enough for this rule's
            # share covers it.
            last = [i for i, s in enumerate(steps) if str(s["rule_id"]) == str(rule.id)][:wanted]
            needed = max(needed, (last[-1] + 1) if last else 0)
    return ExtensionPolicy(
        steps_required=needed,
        max_total_duration_seconds=min(p.max_total_duration_seconds for p in policies),
        max_extensions=min(p.max_extensions for p in policies),
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
        # Under the ticket's lock two extension requests cannot both pass the checks.
        ticket = await lock_ticket(ticket.id, bump_version=False)
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
        window = min((r.spec.approval_window_seconds for r in await governing_rules(ticket)), default=86400)
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


async def current_extension_step(extension: Extension) -> TicketStep | None:
    """The first of its steps whose quorum the extension has not met yet."""
    steps = await TicketStep.filter(ticket_id=extension.ticket_id, position__lt=extension.steps_required).order_by(
        "position"
    )
    for step in steps:
        if not quorum.step_passed(step, await quorum.extension_casts(extension.id, step.position)):
            return step
    return None


async def decide_extension(rt: Runtime, actor: User, extension_id: str, outcome: Outcome,
                           comment: str = "") -> Extension:
    """Record one person's decision on the extension's current step; the last approval
    moves the ticket's end, a rejection closes the extension."""
    extension = await get_extension(extension_id)
    ticket = await get_readable_ticket(rt, actor.id, str(extension.ticket_id))
    credential = require_own_credential("decide an extension", field="extensionId")
    comment = quorum.checked_comment(comment)
    who = await ticket_parties(ticket)
    quorum.refuse_own_ticket(actor.id, who, quorum.EXTENSION)
    async with rt.unit_of_work() as effects:
        extension = await lock_extension(extension.id)
        now = rt.clock.now()
        if extension.status != E.PENDING:
            raise WrongState(f"this extension is {extension.status.value}", current=extension.status.value,
                             field="extensionId")
        if now >= extension.expires_at:
            raise WrongState("this extension was not approved in time", current=extension.status.value,
                             field="extensionId")
        step = await current_extension_step(extension)
        if step is None:  # pragma: no cover - a pending extension always has a step to pass
            raise WrongState("the extension has no step awaiting a decision", current=extension.status.value)
        on_behalf_of = await quorum.counts_for(rt, actor.id, who, step, now,
                                               await quorum.extension_casts(extension.id), quorum.EXTENSION)
        await quorum.record_extension_decision(extension.id, step, actor.id, on_behalf_of, outcome, comment, now,
                                               credential)
        await record(
            now, actor.id, f"extension.decision.{outcome.value.lower()}", ticket_id=extension.ticket_id,
            detail={"extension": str(extension.id), "step": step.name, "comment": comment,
                    **({"on_behalf_of": on_behalf_of} if on_behalf_of else {})},
        )
        if outcome == Outcome.REJECTED:
            await close_extension(rt, extension, E.REJECTED, actor.id, comment or f"rejected at step {step.name!r}")
        elif await current_extension_step(extension) is None:
            await apply_extension(rt, effects, extension, actor.id, "all extension steps approved")
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
