"""The resource stack: granting a ticket's assignments and unwinding them.

Each entry is written before its AWS call (intent), updated with AWS's request id once
the call returns, and with the outcome once polling settles. The stack is what revoking
deletes, last in first out, and nothing else. Both directions are safe to run again at
any point: they re-read the stack and AWS and carry on from where the last run stopped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from botocore.exceptions import ClientError

from jit.audit.service import record
from jit.aws.assignments import AssignmentKey, Assignments
from jit.aws.budget import Priority
from jit.aws.errors import explain
from jit.aws.session_kill import SessionKill
from jit.directory.models import Account, PermissionSet, User
from jit.directory.queries import live
from jit.durations import session_seconds
from jit.ops import metrics
from jit.reconcile import counters
from jit.reconcile.lease import assignment_lease
from jit.runtime import Runtime
from jit.tickets import plan
from jit.tickets.models import (
    EndReason,
    EntryOrigin,
    EntryStatus,
    StackEntry,
    Target,
    Ticket,
    TicketStatus,
    UnwindStatus,
)
from jit.tickets.state import LIVE, transition

S = TicketStatus
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What a job run did, for logs and tests."""

    result: str
    detail: str = ""


def assignments(rt: Runtime) -> Assignments:
    return Assignments(rt.aws, rt.settle_times(), rt.settings.assignment_poll_timeout)


def _reason(exc: ClientError) -> str:
    return explain(exc)


async def live_holder(entry: StackEntry) -> StackEntry | None:
    """Another live ticket's entry for the same assignment, if any (TEAM bug #279)."""
    return (
        await StackEntry.filter(
            account_id=entry.account_id,
            permission_set_arn=entry.permission_set_arn,
            principal_id=entry.principal_id,
            principal_type=entry.principal_type,
            ticket__status__in=list(LIVE),
            status__in=[EntryStatus.INTENDED, EntryStatus.IN_PROGRESS, EntryStatus.SUCCEEDED],
            unwind_status=None,
        )
        .exclude(ticket_id=entry.ticket_id)
        .first()
    )


async def grant(rt: Runtime, ticket_id: str) -> Outcome:
    ticket = await Ticket.get_or_none(id=ticket_id)
    if ticket is None:
        return Outcome("missing")
    # Access is due at the start time, or at approval when that came later.
    due = ticket.start_at
    if ticket.status == S.SCHEDULED:
        starts = plan.grant_starts(rt, ticket)
        if rt.clock.now() < starts:
            return Outcome("early", starts.isoformat())
        due = max(ticket.start_at, ticket.updated_at)
        async with rt.unit_of_work() as effects:
            await transition(ticket, S.GRANTING, clock=rt.clock, effects=effects, actor_id=None)
    elif ticket.status != S.GRANTING:
        return Outcome("done", ticket.status.value)

    targets = await Target.filter(ticket_id=ticket.id).order_by("id")
    entries = {(e.account_id, e.permission_set_arn): e for e in await StackEntry.filter(ticket_id=ticket.id)}
    failure: str | None = None
    if not entries and rt.clock.now() >= ticket.end_at:
        # Workers were down or behind for the whole window: granting now would hand out
        # access after the ticket ended.
        failure = "the ticket's window ended before it could be granted"
    elif not entries:
        # Invariant 8: what was allowed at request time must still be allowed now.
        failure = await _still_allowed(rt, ticket, targets)
    ic = await rt.identity_center()
    aws = assignments(rt)
    for position, target in enumerate(targets if failure is None else []):
        key = AssignmentKey(ic.instance_arn, target.account_id, target.permission_set_arn, ticket.principal_id)
        entry = entries.get((target.account_id, target.permission_set_arn))
        try:
            async with assignment_lease(rt, key.account_id, key.permission_set_arn, key.principal_id):
                entry = await _grant_one(rt, aws, ticket, key, position, entry)
        except ClientError as exc:
            # The intent may have been written by this very run before the call failed;
            # the reason belongs on it either way.
            entry = entry or await StackEntry.get_or_none(
                ticket_id=ticket.id, account_id=target.account_id, permission_set_arn=target.permission_set_arn
            )
            if entry is None:
                failure = _reason(exc)
                break
            entry.status, entry.failure_reason = EntryStatus.FAILED, _reason(exc)
            entry.updated_at = rt.clock.now()
            await entry.save()
        if entry.status == EntryStatus.FAILED:
            failure = f"{target.account_id} / {target.permission_set_arn}: {entry.failure_reason}"
            break

    if failure is not None:
        await unwind(rt, ticket)
        async with rt.unit_of_work() as effects:
            await transition(
                ticket, S.FAILED, clock=rt.clock, effects=effects, actor_id=None,
                detail={"reason": failure}, failure_reason=failure,
            )
        return Outcome("failed", failure)
    async with rt.unit_of_work() as effects:
        await transition(ticket, S.ACTIVE, clock=rt.clock, effects=effects, actor_id=None)
        # Read again: an extension approved while granting moved the end (without a version).
        ticket.end_at = (await Ticket.get(id=ticket.id)).end_at
        plan.schedule_planned_revoke(rt, effects, ticket)
    metrics.observe_grant((rt.clock.now() - due).total_seconds())
    return Outcome("granted")


async def _still_allowed(rt: Runtime, ticket: Ticket, targets: list[Target]) -> str | None:
    """None if every target is still requestable for the principal, else why not."""
    for target in targets:
        account = await live(Account).get_or_none(id=target.account_id)
        if account is None:
            return f"account {target.account_id} is no longer in the organization"
        principal = await live(User).get_or_none(id=ticket.principal_id)
        if principal is None:
            return "the principal is no longer in the directory"
        if not await rt.authz.may_request(ticket.requester_id, ticket.principal_id, account, target.permission_set_arn):
            return f"no approval rule allows {target.permission_set_arn} on {account.id} any more"
    return None


async def _grant_one(
    rt: Runtime, aws: Assignments, ticket: Ticket, key: AssignmentKey, position: int, entry: StackEntry | None
) -> StackEntry:
    now = rt.clock.now()
    written_now = entry is None
    if entry is None:
        # Look before writing the intent: an assignment that is already there when the
        # intent is recorded was not made by this ticket, whatever happens next. Another
        # ticket's entry that holds it answers without asking AWS (one call of the budget).
        holder = await StackEntry.filter(
            account_id=key.account_id, permission_set_arn=key.permission_set_arn,
            principal_id=key.principal_id, status=EntryStatus.SUCCEEDED, unwind_status=None,
        ).exclude(ticket_id=ticket.id).exists()
        origin: EntryOrigin | None = None
        if holder:
            origin = EntryOrigin.SHARED
        elif await aws.exists(key, Priority.GRANT):
            origin = EntryOrigin.STANDING
        pre_existing = origin is not None
        entry = await StackEntry.create(
            ticket_id=ticket.id, position=position, account_id=key.account_id,
            permission_set_arn=key.permission_set_arn, principal_id=key.principal_id,
            principal_type=key.principal_type, pre_existing=pre_existing, origin=origin,
            status=EntryStatus.SUCCEEDED if pre_existing else EntryStatus.INTENDED,
            created_at=now, updated_at=now,
        )
        if origin is not None:
            await _audit(rt, entry, "found", origin=origin.value)
            return entry
    if entry.status in (EntryStatus.SUCCEEDED, EntryStatus.FAILED):
        return entry
    if entry.status == EntryStatus.INTENDED:
        # A previous run may have died between AWS accepting the call and us recording
        # it. moto (and a careless retry) would create a duplicate, so look first; an
        # intent this run wrote just after looking needs no second look (under the lease).
        if not written_now and not entry.pre_existing and await aws.exists(key, Priority.GRANT):
            entry.status, entry.origin = EntryStatus.SUCCEEDED, EntryOrigin.CREATED
            entry.updated_at = rt.clock.now()
            await entry.save()
            await _audit(rt, entry, "succeeded", note="found after an interrupted grant")
            return entry
        started = await aws.create(key)
        entry.request_id = started.request_id
        entry.origin = EntryOrigin.CREATED
        entry.status = EntryStatus.FAILED if started.status == "FAILED" else EntryStatus.IN_PROGRESS
        entry.failure_reason = started.failure_reason  # type: ignore[assignment]  # nullable TextField typed str
        entry.updated_at = rt.clock.now()
        await entry.save()
        await _audit(rt, entry, "requested", request_id=entry.request_id)
    if entry.status == EntryStatus.IN_PROGRESS:
        ic = await rt.identity_center()
        settled = await aws.wait_created(ic.instance_arn, _request_id(entry.request_id))
        entry.status = EntryStatus.SUCCEEDED if settled.status == "SUCCEEDED" else EntryStatus.FAILED
        entry.failure_reason = settled.failure_reason  # type: ignore[assignment]  # nullable TextField typed str
        entry.updated_at = rt.clock.now()
        await entry.save()
        await _audit(rt, entry, entry.status.value.lower(), request_id=entry.request_id, reason=entry.failure_reason)
    return entry


async def unwind(rt: Runtime, ticket: Ticket) -> bool:
    """Undo the ticket's stack, last in first out. True when nothing is left to do."""
    ic = await rt.identity_center()
    aws = assignments(rt)
    complete = True
    for entry in await StackEntry.filter(ticket_id=ticket.id).order_by("-position"):
        if entry.unwind_status in (UnwindStatus.DELETED, UnwindStatus.RETAINED, UnwindStatus.SKIPPED):
            continue
        key = AssignmentKey(ic.instance_arn, entry.account_id, entry.permission_set_arn, entry.principal_id,
                            entry.principal_type)
        try:
            async with assignment_lease(rt, key.account_id, key.permission_set_arn, key.principal_id):
                await _unwind_one(rt, aws, key, entry)
        except ClientError as exc:
            entry.unwind_status, entry.unwind_reason = UnwindStatus.FAILED, _reason(exc)
            entry.updated_at = rt.clock.now()
            await entry.save()
        if entry.unwind_status not in (UnwindStatus.DELETED, UnwindStatus.RETAINED, UnwindStatus.SKIPPED):
            complete = False
    return complete


def _request_id(value: str | None) -> str:
    """The AWS request id of an IN_PROGRESS call, which is recorded with the status."""
    if value is None:  # pragma: no cover - IN_PROGRESS is written with the request id
        raise RuntimeError("an assignment call in progress has no request id")
    return value


async def _audit(rt: Runtime, entry: StackEntry, action: str, **detail: object) -> None:
    await record(
        rt.clock.now(), None, f"assignment.{action}", ticket_id=entry.ticket_id,
        detail={"position": entry.position, "account": entry.account_id,
                "permission_set": entry.permission_set_arn, **detail},
    )


async def _finish(rt: Runtime, entry: StackEntry, status: UnwindStatus, reason: str | None) -> None:
    # Tortoise types a nullable TextField as str.
    entry.unwind_status, entry.unwind_reason = status, reason  # type: ignore[assignment]
    entry.updated_at = rt.clock.now()
    await entry.save()
    if status != UnwindStatus.INTENDED:
        action = "delete_requested" if status == UnwindStatus.IN_PROGRESS else status.value.lower()
        await _audit(rt, entry, action, request_id=entry.unwind_request_id, reason=reason)


async def _unwind_one(rt: Runtime, aws: Assignments, key: AssignmentKey, entry: StackEntry) -> None:
    if entry.origin == EntryOrigin.STANDING:
        return await _finish(rt, entry, UnwindStatus.RETAINED, "standing access that existed before the ticket")
    holder = await live_holder(entry)
    if holder is not None:
        return await _finish(rt, entry, UnwindStatus.RETAINED, f"still needed by ticket {holder.ticket_id}")
    if entry.unwind_status != UnwindStatus.IN_PROGRESS:
        # An entry AWS confirmed is deleted without a look first (the delete answers "not
        # found" if someone removed it meanwhile); one whose grant never settled may never
        # have existed, so look.
        if entry.status != EntryStatus.SUCCEEDED and not await aws.exists(key, Priority.REVOKE):
            never = entry.status in (EntryStatus.INTENDED, EntryStatus.FAILED)
            return await _finish(
                rt, entry, UnwindStatus.SKIPPED if never else UnwindStatus.DELETED,
                "never created" if never else "already gone",
            )
        await _finish(rt, entry, UnwindStatus.INTENDED, None)
        started = await aws.delete(key)
        if started.not_found:
            return await _finish(rt, entry, UnwindStatus.DELETED, "already gone")
        entry.unwind_request_id = started.request_id
        if started.status == "FAILED":
            return await _delete_failed(rt, aws, key, entry, started.failure_reason)
        await _finish(rt, entry, UnwindStatus.IN_PROGRESS, started.failure_reason)
    if entry.unwind_status == UnwindStatus.IN_PROGRESS:
        settled = await aws.wait_deleted(key.instance_arn, _request_id(entry.unwind_request_id))
        if settled.status != "SUCCEEDED":
            return await _delete_failed(rt, aws, key, entry, settled.failure_reason)
        await _finish(rt, entry, UnwindStatus.DELETED, None)


async def _delete_failed(rt: Runtime, aws: Assignments, key: AssignmentKey, entry: StackEntry,
                         reason: str | None) -> None:
    """A delete that AWS answered FAILED: gone all the same if it was not there to delete
    (removed by hand meanwhile); otherwise a failure the revoke retries."""
    if not await aws.exists(key, Priority.REVOKE):
        return await _finish(rt, entry, UnwindStatus.DELETED, "already gone")
    await _finish(rt, entry, UnwindStatus.FAILED, reason)


async def _kill_sessions(rt: Runtime, ticket: Ticket) -> None:
    """Denies sessions issued before now for each permission set this revocation removed
    (docs/reliability.md). A failure is audited and does not hold up the revocation: the
    assignments are already gone; only open sessions would live on."""
    ic = await rt.identity_center()
    killer = SessionKill(rt.aws)
    removed = await StackEntry.filter(ticket_id=ticket.id, unwind_status=UnwindStatus.DELETED).values_list(
        "permission_set_arn", "principal_id", "principal_type")
    for ps_arn, principal_id, principal_type in sorted(set(removed)):
        if principal_type != "USER":
            continue
        ps = await PermissionSet.get_or_none(arn=ps_arn)
        now = rt.clock.now()
        try:
            sid, new = await killer.deny(
                ic.instance_arn, ps_arn, ticket_id=str(ticket.id), user_id=principal_id, issued_before=now,
                session=session_seconds(ps.session_duration if ps else None),
            )
        except ClientError as exc:
            await record(now, None, "session_kill.failed", ticket_id=ticket.id,
                         detail={"permission_set": ps_arn, "reason": _reason(exc)})
            continue
        if new:
            await counters.bump(now, counters.SESSIONS_KILLED)
            await record(now, None, "session_kill.applied", ticket_id=ticket.id,
                         detail={"permission_set": ps_arn, "statement": sid, "issued_before": now.isoformat()})


async def finish_unwind(rt: Runtime, ticket_id: str) -> Outcome:
    """Unwinds what a FAILED ticket's grant left behind, when its own unwind was cut short."""
    ticket = await Ticket.get_or_none(id=ticket_id)
    if ticket is None:
        return Outcome("missing")
    if ticket.status != S.FAILED:
        return Outcome("done", ticket.status.value)
    return Outcome("unwound" if await unwind(rt, ticket) else "incomplete")


async def revoke(rt: Runtime, ticket_id: str) -> Outcome:
    ticket = await Ticket.get_or_none(id=ticket_id)
    if ticket is None:
        return Outcome("missing")
    # Access is due to go at the end time, or when it was revoked (the REVOKING write).
    due = ticket.end_at
    if ticket.status == S.REVOKING and ticket.end_reason == EndReason.REVOKED:
        due = min(ticket.end_at, ticket.updated_at)
    if ticket.status == S.ACTIVE:
        now = rt.clock.now()
        starts = plan.revoke_starts(rt, ticket)
        if now < starts:
            return Outcome("early", starts.isoformat())
        early = round((ticket.end_at - now).total_seconds(), 3)
        async with rt.unit_of_work() as effects:
            await transition(
                ticket, S.REVOKING, clock=rt.clock, effects=effects, actor_id=None,
                detail={"reason": "expired", "started_early_seconds": early}, end_reason=EndReason.EXPIRED,
                revoke_started_early=early,
            )
        metrics.REVOKE_EARLY.observe(max(early, 0.0))
    elif ticket.status != S.REVOKING:
        return Outcome("done", ticket.status.value)
    if not await unwind(rt, ticket):
        return Outcome("incomplete")
    if rt.settings.session_kill and ticket.end_reason == EndReason.REVOKED:
        await _kill_sessions(rt, ticket)
    async with rt.unit_of_work() as effects:
        await transition(
            ticket, S.ENDED, clock=rt.clock, effects=effects, actor_id=None,
            detail={"reason": (ticket.end_reason or EndReason.EXPIRED).value.lower()},
        )
    metrics.observe_revoke((ticket.end_reason or EndReason.EXPIRED).value.lower(),
                           (rt.clock.now() - due).total_seconds())
    return Outcome("revoked")
