"""Requesting, cancelling and revoking tickets: the only code that creates tickets, their
targets and their steps. What approval does to a ticket is jit.tickets.approval (called by
jit.approvals), extensions jit.tickets.extensions, granting and revoking jit.tickets.stack.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from jit.audit.service import record
from jit.auth.acting import require_own_credential
from jit.authz.service import TicketParties, parties, strictness
from jit.config import Settings
from jit.directory.models import Account, PermissionSet, User
from jit.directory.queries import live
from jit.errors import NotAllowed, NotFound, ValidationFailed, WrongState
from jit.ops.logs import set_ticket
from jit.rules.models import ApprovalRule, allows_alone
from jit.rules.plan import refuse_unmeetable
from jit.runtime import Effects, Runtime
from jit.tickets.approval import approve_by_break_glass, checked_break_glass_reason, schedule_approved
from jit.tickets.expand import expand_targets
from jit.tickets.models import EndReason, Target, Ticket, TicketStatus, TicketStep
from jit.tickets.state import transition

S = TicketStatus
# Clocks drift; a start a few seconds in the past still means "now".
START_GRACE = timedelta(seconds=60)
MAX_JUSTIFICATION = 4000


@dataclass
class TargetRequest:
    account_id: str | None
    permission_set: str | None  # a permission set ARN or name
    permission_set_group: str | None = None  # instead of permission_set
    organizational_unit: str | None = None  # instead of account_id: an OU id or name path


@dataclass
class TicketRequest:
    targets: list[TargetRequest]
    duration_seconds: int
    justification: str = ""
    principal_id: str | None = None
    start_at: datetime | None = None
    external_ref: str | None = None
    # The window starts at the final approval instead of start_at.
    start_when_approved: bool = False
    # Approve it at once by break-glass, in the same transaction that creates it: either
    # the ticket exists and is approved, or it does not exist.
    break_glass_reason: str | None = None


@dataclass
class _Resolved:
    account: Account
    permission_set: PermissionSet
    rule: ApprovalRule
    covering: list[ApprovalRule] = field(default_factory=list)
    permission_set_group: str | None = None


def parse_uuid(value: str, field_name: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed(f"{value!r} is not a valid id", field=field_name) from None


def revoke_job_id(ticket: Ticket, cause: str) -> str:
    return f"tickets.revoke:{ticket.id}:{cause}"


def approval_deadline(now: datetime, rules: list[ApprovalRule], end_at: datetime | None = None) -> datetime:
    """The tightest approval window of the governing rules, and never past the ticket's
    own end (None for a ticket that starts when approved): approval after that could
    only fail to grant."""
    seconds = min((getattr(r, "approval_window_seconds", None) or 86400 for r in rules), default=86400)
    deadline = now + timedelta(seconds=seconds)
    return min(deadline, end_at) if end_at is not None else deadline


def schedule_approval_window(effects: Effects, ticket: Ticket, settings: Settings) -> None:
    """The expiry job at the deadline and a reminder before it (jit.approvals.window)."""
    deadline = ticket.approval_expires_at
    if deadline is None:
        return
    effects.enqueue("approvals.expire", str(ticket.id), job_id=f"approvals.expire:{ticket.id}", defer_until=deadline)
    remind_at = deadline - timedelta(seconds=settings.approval_reminder_before_seconds)
    if remind_at > ticket.created_at:
        effects.enqueue("approvals.remind", str(ticket.id), job_id=f"approvals.remind:{ticket.id}",
                        defer_until=remind_at)


def schedule_revoke(effects: Effects, ticket: Ticket, at: datetime | None, cause: str) -> None:
    effects.enqueue("tickets.revoke", str(ticket.id), job_id=revoke_job_id(ticket, cause), defer_until=at)


async def governing_rule_ids(ticket_id: uuid.UUID) -> set[str]:
    """The rules of the ticket's targets and steps."""
    rows = [*await Target.filter(ticket_id=ticket_id).values("rule_id"),
            *await TicketStep.filter(ticket_id=ticket_id).values("rule_id")]
    return {str(row["rule_id"]) for row in rows}


async def ticket_parties(ticket: Ticket) -> TicketParties:
    return parties(ticket.requester_id, ticket.principal_id, await governing_rule_ids(ticket.id))


async def get_ticket(ticket_id: str) -> Ticket:
    ticket = await Ticket.get_or_none(id=parse_uuid(ticket_id, "ticketId"))
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} not found", field="ticketId")
    set_ticket(ticket.id)
    return ticket


async def get_readable_ticket(rt: Runtime, actor_id: str, ticket_id: str) -> Ticket:
    """A ticket the actor may read; one they may not read looks exactly like a missing one."""
    ticket = await get_ticket(ticket_id)
    if not await rt.authz.may_read(actor_id, await ticket_parties(ticket), rt.clock.now()):
        raise NotFound(f"ticket {ticket_id} not found", field="ticketId")
    return ticket


async def _resolve_targets(rt: Runtime, actor: User, principal: User, req: TicketRequest) -> list[_Resolved]:
    if not req.targets:
        raise ValidationFailed("at least one target is required", field="targets")
    if len(req.targets) > rt.settings.max_targets:
        raise ValidationFailed(f"at most {rt.settings.max_targets} targets per ticket (JIT_MAX_TARGETS)",
                               field="targets")
    plain = await expand_targets(req.targets, rt.settings.max_targets)
    # Only ids that could be accounts reach the query: the ORM refuses values longer than
    # the column, which would surface as an unexpected error instead of "unknown account".
    account_ids = {t.account_id for t in plain if len(t.account_id) <= 12}
    accounts = {a.id: a for a in await live(Account).filter(id__in=account_ids)}
    permission_sets = await live(PermissionSet)
    by_arn = {p.arn: p for p in permission_sets}
    by_name = {p.name: p for p in permission_sets}
    resolved: list[_Resolved] = []
    seen: set[tuple[str, str]] = set()
    for target in plain:
        where = target.field
        account = accounts.get(target.account_id)
        if account is None:
            raise ValidationFailed(f"unknown account {target.account_id!r}", field=f"{where}.accountId")
        ps = by_arn.get(target.permission_set) or by_name.get(target.permission_set)
        if ps is None:
            raise ValidationFailed(
                f"unknown permission set {target.permission_set!r}",
                field=f"{where}.permissionSetGroup" if target.permission_set_group else f"{where}.permissionSet",
            )
        if (account.id, ps.arn) in seen:
            raise ValidationFailed("the same target is listed twice", field=where)
        seen.add((account.id, ps.arn))
        covering = [r for r in await rt.authz.may_request(actor.id, principal.id, account, ps.arn)
                    if allows_alone(r, ps.name, target.permission_set_group)]
        if not covering:
            raise NotAllowed(
                f"no approval rule lets you request {ps.name} on {account.name} ({account.id})"
                + ("" if actor.id == principal.id else f" for {principal.user_name}"),
                field=where,
            )
        resolved.append(_Resolved(account, ps, covering[0], covering, target.permission_set_group))
    return resolved


def _check_window(rt: Runtime, req: TicketRequest, resolved: list[_Resolved]) -> tuple[datetime, datetime]:
    now = rt.clock.now()
    if req.duration_seconds <= 0:
        raise ValidationFailed("duration must be positive", field="durationSeconds")
    if req.duration_seconds < rt.settings.min_duration_seconds:
        raise ValidationFailed(
            f"duration must be at least {rt.settings.min_duration_seconds} seconds", field="durationSeconds"
        )
    for item in resolved:
        if req.duration_seconds > item.rule.max_duration_seconds:
            raise ValidationFailed(
                f"duration exceeds the maximum of {item.rule.max_duration_seconds} seconds set by rule "
                f"{item.rule.name!r} for {item.permission_set.name} on {item.account.name}",
                field="durationSeconds",
            )
    if req.start_when_approved and req.start_at is not None:
        raise ValidationFailed("give a start time or start when approved, not both", field="startAt")
    start = req.start_at or now
    if start.tzinfo is None:
        raise ValidationFailed("start must include a time zone", field="startAt")
    if start < now - START_GRACE:
        raise ValidationFailed("start is in the past", field="startAt")
    if start > now + timedelta(days=rt.settings.ticket_max_lead_days):
        raise ValidationFailed(f"a ticket starts at most {rt.settings.ticket_max_lead_days} days ahead "
                               "(JIT_TICKET_MAX_LEAD_DAYS)", field="startAt")
    start = max(start, now)
    return start, start + timedelta(seconds=req.duration_seconds)


async def request_ticket(rt: Runtime, actor: User, req: TicketRequest) -> Ticket:
    principal = actor
    if req.principal_id and req.principal_id != actor.id:
        found = await live(User).get_or_none(id=req.principal_id)
        if found is None:
            raise ValidationFailed(f"unknown principal {req.principal_id!r}", field="principalId")
        principal = found
    justification = (req.justification or "").strip()
    if len(justification) > MAX_JUSTIFICATION:
        raise ValidationFailed(f"justification is longer than {MAX_JUSTIFICATION} characters", field="justification")
    if req.external_ref is not None and len(req.external_ref) > 255:
        raise ValidationFailed("external reference is longer than 255 characters", field="externalRef")
    resolved = await _resolve_targets(rt, actor, principal, req)
    start, end = _check_window(rt, req, resolved)
    if not justification:
        for item in resolved:
            if item.rule.justification_required:
                raise ValidationFailed(
                    f"rule {item.rule.name!r} requires a justification", field="justification"
                )

    # Every governing rule's steps apply, strictest rule first, so no target slips
    # through on a laxer rule's approvers.
    governing: dict[str, ApprovalRule] = {}
    for item in sorted(resolved, key=lambda r: strictness(r.rule), reverse=True):
        governing.setdefault(str(item.rule.id), item.rule)

    break_glass_reason = None
    if req.break_glass_reason is not None:
        break_glass_reason = checked_break_glass_reason(req.break_glass_reason, "breakGlassReason")
        require_own_credential("approve a ticket by break-glass")
        rule_ids = set(governing)
        if not await rt.authz.may_break_glass(actor.id, parties(actor.id, principal.id, rule_ids), rule_ids):
            raise NotAllowed(
                "break-glass is not allowed: only the requester may use it, and only when every rule "
                "governing the ticket allows it", field="breakGlassReason",
            )
    else:
        await refuse_unmeetable(list(governing.values()), {actor.id, principal.id})

    now = rt.clock.now()
    async with rt.unit_of_work() as effects:
        ticket = await Ticket.create(
            id=uuid.uuid4(), requester_id=actor.id, principal_id=principal.id,
            status=S.PENDING_APPROVAL, start_at=start, end_at=end, justification=justification,
            external_ref=req.external_ref, created_at=now, updated_at=now, version=0,
            approval_expires_at=approval_deadline(now, list(governing.values()),
                                                  None if req.start_when_approved else end),
            starts_on_approval=req.start_when_approved,
        )
        set_ticket(ticket.id)
        await Target.bulk_create([
            Target(ticket_id=ticket.id, account_id=item.account.id, permission_set_arn=item.permission_set.arn,
                   rule_id=item.rule.id, rule_name=item.rule.name, permission_set_group=item.permission_set_group)
            for item in resolved
        ])
        steps: list[TicketStep] = []
        for rule in governing.values():
            for index, step in enumerate(rule.spec.steps):
                steps.append(TicketStep(
                    ticket_id=ticket.id, position=len(steps), rule_id=rule.id, rule_name=rule.name,
                    step_index=index, name=step.name, required=step.required,
                    approver_users=step.users, approver_groups=step.groups,
                ))
        if steps:
            await TicketStep.bulk_create(steps)
        await record(
            now, actor.id, "ticket.requested", ticket_id=ticket.id, to_status=S.PENDING_APPROVAL.value,
            on_behalf_of=principal.id if actor.id != principal.id else None,
            detail={
                "principal": principal.user_name,
                **({"on_behalf_of": principal.user_name, "requester": actor.user_name}
                   if actor.id != principal.id else {}),
                "targets": [
                    {"account": i.account.id, "permission_set": i.permission_set.name, "rule": i.rule.name}
                    for i in resolved
                ],
                "start_at": start.isoformat(), "end_at": end.isoformat(),
            },
        )
        if steps and break_glass_reason is not None:
            await approve_by_break_glass(rt, effects, ticket, actor.id, now, break_glass_reason)
        elif steps:
            schedule_approval_window(effects, ticket, rt.settings)
        else:
            await schedule_approved(
                rt, effects, ticket, None, now,
                {"reason": "auto-approved by " + ", ".join(repr(r.name) for r in governing.values())},
            )
    return ticket


async def cancel_ticket(rt: Runtime, actor: User, ticket_id: str, reason: str = "") -> Ticket:
    ticket = await get_readable_ticket(rt, actor.id, ticket_id)
    who = await ticket_parties(ticket)
    if not await rt.authz.may_cancel(actor.id, who):
        raise NotAllowed("only the requester, the principal or an admin may cancel a ticket", field="ticketId")
    if ticket.status not in (S.PENDING_APPROVAL, S.SCHEDULED):
        raise WrongState(
            f"only a pending or scheduled ticket can be cancelled; this one is {ticket.status.value}"
            + ("; revoke it instead" if ticket.status == S.ACTIVE else ""),
            current=ticket.status.value, field="ticketId",
        )
    async with rt.unit_of_work() as effects:
        await transition(
            ticket, S.CANCELLED, clock=rt.clock, effects=effects, actor_id=actor.id,
            detail={"reason": reason} if reason else None,
        )
    return ticket


async def revoke_ticket(rt: Runtime, actor: User, ticket_id: str, reason: str = "") -> Ticket:
    ticket = await get_readable_ticket(rt, actor.id, ticket_id)
    if not await rt.authz.may_revoke(actor.id, await ticket_parties(ticket)):
        raise NotAllowed("you may not revoke this ticket", field="ticketId")
    if ticket.status != S.ACTIVE:
        hint = {
            S.PENDING_APPROVAL: "; cancel it instead",
            S.SCHEDULED: "; cancel it instead",
            S.GRANTING: "; it is being granted, try again in a moment",
        }.get(ticket.status, "")
        raise WrongState(
            f"only an active ticket can be revoked; this one is {ticket.status.value}{hint}",
            current=ticket.status.value, field="ticketId",
        )
    async with rt.unit_of_work() as effects:
        await transition(
            ticket, S.REVOKING, clock=rt.clock, effects=effects, actor_id=actor.id,
            detail={"reason": reason or "revoked"}, end_reason=EndReason.REVOKED,
        )
        schedule_revoke(effects, ticket, None, f"revoked:{ticket.version}")
    return ticket


async def end_for_offboarding(rt: Runtime, ticket: Ticket, reason: str) -> Ticket | None:
    """End a ticket its principal may no longer hold (jit.directory.offboarding): revoke it
    when active, cancel it when it is still waiting. None when it moved on meanwhile."""
    ticket = await Ticket.get(id=ticket.id)
    detail = {"reason": reason, "offboarding": True}
    try:
        async with rt.unit_of_work() as effects:
            if ticket.status == S.ACTIVE:
                await transition(ticket, S.REVOKING, clock=rt.clock, effects=effects, actor_id=None, detail=detail,
                                 end_reason=EndReason.REVOKED)
                schedule_revoke(effects, ticket, None, f"revoked:{ticket.version}")
            elif ticket.status in (S.PENDING_APPROVAL, S.SCHEDULED):
                await transition(ticket, S.CANCELLED, clock=rt.clock, effects=effects, actor_id=None, detail=detail)
            else:
                return None
    except WrongState:
        return None  # someone moved it first; the next sync looks again
    return ticket
