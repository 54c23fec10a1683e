"""Drift: account assignments in AWS that no live ticket and no declared standing
assignment explains.

Only permission sets and accounts JIT knows (the synced directory) are scanned, and only
the pairs AWS says are provisioned (jit.reconcile.inventory). AWS is read before the
database: JIT writes a stack entry's intent before it calls AWS, so an assignment a grant
is making right now is always explained by the time the database is read.

A paced scan takes minutes, and tickets end, start and extend meanwhile. So a candidate is
confirmed before it is reported or removed: its pair is read from AWS again, then the
database again, and an assignment a ticket deleted around that second read (within
RECHECK_MARGIN) is left for the next scan to judge. A ticket that ended mid-scan is therefore never drift.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from botocore.exceptions import ClientError
from tortoise.expressions import Q

from jit.audit.service import record
from jit.aws.assignments import AssignmentKey
from jit.aws.budget import Priority, aws_priority
from jit.aws.errors import explain
from jit.aws.session_kill import SessionKill
from jit.directory.models import Account, PermissionSet
from jit.directory.queries import live
from jit.errors import NotAllowed, NotFound, ValidationFailed
from jit.ids import int_id
from jit.reconcile import counters, inventory, standing
from jit.reconcile.lease import LeaseBusy, assignment_lease
from jit.reconcile.models import DriftFinding
from jit.reconcile.standing import AssignmentRef
from jit.runtime import Runtime
from jit.tickets.models import StackEntry, TicketStatus, UnwindStatus
from jit.tickets.stack import assignments

S = TicketStatus
log = logging.getLogger(__name__)
# Tickets whose stack may hold assignments in AWS right now.
HOLDING = [S.GRANTING, S.ACTIVE, S.REVOKING, S.FAILED]
# A deletion stamped this long before a finding was re-read from AWS may still be what that
# read saw: AWS's lists can show a settled deletion for a moment, and the workers that
# stamp deletions run on other hosts' clocks. Older deletions explain nothing: what AWS
# holds after them was made again (an operator re-creating access a ticket just removed
# is drift at once, not a minute later).
RECHECK_MARGIN = timedelta(seconds=15)


@dataclass
class DriftReport:
    found: list[DriftFinding] = field(default_factory=list)
    new: int = 0
    resolved: int = 0
    removed: int = 0
    errors: list[str] = field(default_factory=list)
    pairs: int = 0
    calls: int = 0
    calls_by_operation: dict[str, int] = field(default_factory=dict)
    # Candidates the confirmation dropped: gone from AWS, or explained, by then.
    unconfirmed: int = 0

    def summary(self) -> dict[str, int]:
        return {"open": len(self.found), "new": self.new, "resolved": self.resolved, "removed": self.removed,
                "pairs": self.pairs, "calls": self.calls}


def ref_of(finding: DriftFinding) -> AssignmentRef:
    return AssignmentRef(finding.account_id, finding.permission_set_arn, finding.principal_type, finding.principal_id)


async def explained() -> set[AssignmentRef]:
    """Assignments some ticket's stack holds, or is about to hold or remove."""
    # RETAINED entries explain nothing: another live ticket's entry does, or the
    # assignment was standing access that must be declared to stay.
    rows = await StackEntry.filter(
        Q(ticket__status__in=HOLDING)
        & (Q(unwind_status__isnull=True)
           | Q(unwind_status__in=[UnwindStatus.INTENDED, UnwindStatus.IN_PROGRESS, UnwindStatus.FAILED]))
    ).values_list("account_id", "permission_set_arn", "principal_type", "principal_id")
    return {AssignmentRef(*row) for row in rows}


async def deleted_since(since: datetime, refs: set[AssignmentRef]) -> set[AssignmentRef]:
    """Of `refs`, those a ticket deleted from AWS at or after `since`: AWS may still list
    an assignment a moment after its deletion settled, and a scan that read it before the
    deletion must not call what is left of it drift. (Kept or skipped entries deleted
    nothing, so access a ticket found and left behind is still drift at once.)"""
    if not refs:
        return set()
    rows = await StackEntry.filter(
        unwind_status=UnwindStatus.DELETED, updated_at__gte=since,
        account_id__in=sorted({r.account_id for r in refs}),
    ).values_list("account_id", "permission_set_arn", "principal_type", "principal_id")
    return {AssignmentRef(*row) for row in rows} & refs


async def unexplained(rt: Runtime, refs: set[AssignmentRef]) -> set[AssignmentRef]:
    known = await explained()
    declared = await standing.load(rt.settings)
    return {ref for ref in refs if ref not in known and not declared.explains(ref)}


async def confirm(rt: Runtime, reader: inventory.Reader, candidates: set[AssignmentRef]) -> set[AssignmentRef]:
    """The candidates that are still drift now: AWS still holds them (read again, pair by
    pair), and then the database still explains none of them and no ticket deleted them
    around or after that second read."""
    by_pair: dict[inventory.Pair, set[AssignmentRef]] = defaultdict(set)
    for ref in candidates:
        by_pair[(ref.account_id, ref.permission_set_arn)].add(ref)
    still: set[AssignmentRef] = set()
    rechecked = rt.clock.now()
    for pair, refs in sorted(by_pair.items()):
        still |= refs & await reader.assignments(pair)
    # The database after AWS, as in the scan itself.
    still = await unexplained(rt, still)
    return still - await deleted_since(rechecked - RECHECK_MARGIN, still)


async def scan(rt: Runtime, *, auto_remove: bool | None = None, pace: inventory.Pace | None = None,
               progress: inventory.Progress | None = None) -> DriftReport:
    """One scan. Unpaced unless given a `pace` (the `drift.scan` job spreads its calls)."""
    ic = await rt.identity_center()
    # Tortoise types a flat values_list as tuples; these are single ids and arns.
    accounts = cast(list[str], await live(Account).order_by("id").values_list("id", flat=True))
    permission_sets = cast(list[str], await live(PermissionSet).order_by("arn").values_list("arn", flat=True))
    async with rt.aws.client("sso-admin") as sso:
        reader = inventory.Reader(sso, ic.instance_arn, pace or inventory.unpaced())
        held = await inventory.read(reader, accounts, permission_sets, progress or inventory.NoProgress())
        candidates = await unexplained(rt, held.held)
        drift = await confirm(rt, reader, candidates)
    report = DriftReport(pairs=len(held.pairs), calls=reader.calls, calls_by_operation=dict(reader.by_operation),
                         unconfirmed=len(candidates - drift))
    if report.unconfirmed:
        log.info("drift scan: %d candidate(s) changed during the scan and were not reported", report.unconfirmed)
    now = rt.clock.now()
    open_rows = {ref_of(f): f for f in await DriftFinding.filter(resolved_at=None)}
    for ref, row in open_rows.items():
        if ref not in drift:
            row.resolved_at, row.resolution = now, "GONE" if ref not in held.held else "EXPLAINED"
            await row.save()
            report.resolved += 1
            await record(now, None, "drift.resolved", subject_type="drift", subject_id=row.id,
                         before={"resolution": None}, after={"resolution": row.resolution}, detail=_finding(row))
    for ref in sorted(drift, key=lambda r: (r.account_id, r.permission_set_arn, r.principal_id)):
        found = open_rows.get(ref)
        if found is None:
            found = await DriftFinding.create(
                account_id=ref.account_id, permission_set_arn=ref.permission_set_arn, principal_type=ref.principal_type,
                principal_id=ref.principal_id, first_seen_at=now, last_seen_at=now,
            )
            report.new += 1
            await record(now, None, "drift.detected", subject_type="drift", subject_id=found.id,
                         before=None, after={"resolution": None}, detail=_finding(found))
        else:
            found.last_seen_at = now
            await found.save()
        report.found.append(found)
    await counters.bump(now, counters.DRIFT_DETECTED, report.new)
    if auto_remove if auto_remove is not None else rt.settings.drift_auto_remove:
        for row in list(report.found):
            try:
                if (await remove(rt, row.id, actor_id=None)).resolution == "REMOVED":
                    report.removed += 1
            except (ClientError, NotAllowed, NotFound, LeaseBusy) as exc:
                report.errors.append(f"{row.id}: {exc}")
    return report


async def prune_session_kills(rt: Runtime) -> int:
    """Drops session-kill deny statements whose sessions have all expired."""

    ic = await rt.identity_center()
    killer = SessionKill(rt.aws)
    removed = 0
    # Tortoise types a flat values_list as tuples; these are single arns.
    for arn in cast(list[str], await live(PermissionSet).values_list("arn", flat=True)):
        try:
            with aws_priority(Priority.READ):
                removed += await killer.prune(ic.instance_arn, arn, rt.clock.now())
        except ClientError:
            log.exception("could not prune session-kill statements on %s", arn)
    return removed


async def open_findings() -> list[DriftFinding]:
    return await DriftFinding.filter(resolved_at=None).order_by("id")


async def remove(rt: Runtime, finding_id: int, actor_id: str | None) -> DriftFinding:
    """Deletes one drifted assignment from AWS, after checking again that nothing explains it."""
    row = await DriftFinding.get_or_none(id=finding_id)
    if row is None:
        raise NotFound(f"drift finding {finding_id} not found", field="id")
    if row.resolved_at is not None:
        return row
    ref = ref_of(row)
    # Under the assignment's lease, so a grant cannot record it as already there while
    # it is being deleted.
    async with assignment_lease(rt, ref.account_id, ref.permission_set_arn, ref.principal_id):
        return await _remove(rt, row, ref, actor_id)


async def _remove(rt: Runtime, row: DriftFinding, ref: AssignmentRef, actor_id: str | None) -> DriftFinding:

    now = rt.clock.now()
    if ref in await explained() or (await standing.load(rt.settings)).explains(ref):
        row.resolved_at, row.resolution = now, "EXPLAINED"
        await row.save()
        await record(now, actor_id, "drift.resolved", subject_type="drift", subject_id=row.id,
                     before={"resolution": None}, after={"resolution": "EXPLAINED"}, detail=_finding(row))
        raise NotAllowed("a live ticket or a standing assignment now explains this assignment; it was kept", field="id")
    ic = await rt.identity_center()
    aws = assignments(rt)
    key = AssignmentKey(ic.instance_arn, ref.account_id, ref.permission_set_arn, ref.principal_id, ref.principal_type)
    if not await aws.exists(key):
        # Gone already (a ticket's revoke, or someone else): nothing was removed, and
        # saying so would put a deletion JIT never made in the audit trail.
        row.resolved_at, row.resolution = now, "GONE"
        await row.save()
        await record(now, actor_id, "drift.resolved", subject_type="drift", subject_id=row.id,
                     before={"resolution": None}, after={"resolution": "GONE"}, detail=_finding(row))
        return row
    started = await aws.delete(key)
    settled = started
    if started.status == "IN_PROGRESS" and started.request_id:
        settled = await aws.wait_deleted(ic.instance_arn, started.request_id)
    if settled.status != "SUCCEEDED":
        row.detail = settled.failure_reason or "deletion failed"
        await row.save()
        raise NotAllowed(f"AWS did not delete the assignment: {row.detail}", field="id")
    row.resolved_at, row.resolution = rt.clock.now(), "REMOVED"
    await row.save()
    await counters.bump(now, counters.DRIFT_REMOVED)
    await record(now, actor_id, "drift.removed", subject_type="drift", subject_id=row.id,
                 before={"resolution": None}, after={"resolution": "REMOVED"},
                 detail={**_finding(row), "automatic": actor_id is None})
    return row


@dataclass
class BulkRemoval:
    removed: list[DriftFinding] = field(default_factory=list)
    kept: list[DriftFinding] = field(default_factory=list)  # a live ticket or standing assignment explains it now
    failed: list[str] = field(default_factory=list)  # "<finding id>: <why>"


async def remove_findings(rt: Runtime, actor_id: str, finding_id: str | None, everything: bool) -> BulkRemoval:
    """Remove one drift finding's assignment from AWS (its id), or every open one; admins only.

    One finding's failure does not stop the others. Asked for one that could not be removed,
    it raises NotAllowed with the reason instead."""
    await rt.authz.require_admin(actor_id, "scan or remove drift")
    if (finding_id is None) == (not everything):
        raise ValidationFailed("give either id or all: true", field="id")
    if finding_id is not None:
        one = int_id(finding_id)
        if one is None:
            raise ValidationFailed(f"{finding_id!r} is not a drift finding id", field="id")
        ids = [one]
    else:
        ids = [r.id for r in await open_findings()]
    out = BulkRemoval()
    for one_id in ids:
        try:
            out.removed.append(await remove(rt, one_id, actor_id))
        except NotAllowed as exc:
            row = await DriftFinding.get(id=one_id)
            if row.resolution == "EXPLAINED":
                out.kept.append(row)
            else:
                out.failed.append(f"{one_id}: {exc.message}")
        except ClientError as exc:
            out.failed.append(f"{one_id}: {explain(exc)}")
        except LeaseBusy:
            out.failed.append(f"{one_id}: a ticket is changing this assignment right now; try again")
    # Something failed and nothing was removed or kept. (The loop used to rebind finding_id,
    # so this applies to `all` as well as to one id; kept as it was.)
    if not out.removed and not out.kept and out.failed:
        raise NotAllowed(out.failed[0], field="id")
    return out


def _finding(row: DriftFinding) -> dict[str, Any]:
    return {"finding": row.id, "account": row.account_id, "permission_set": row.permission_set_arn,
            "principal_type": row.principal_type, "principal": row.principal_id}
