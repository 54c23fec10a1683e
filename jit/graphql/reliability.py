"""Drift, revoke alerts and reliability counters (docs/reliability.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from jit.auth.scopes import Scope
from jit.graphql.context import Context
from jit.graphql.directory import Account, Group, PermissionSet, User
from jit.graphql.errors import NotAllowedError, NotFoundError, ValidationError, WrongStateError
from jit.graphql.resolver import OUTPUT, mutation, query
from jit.reconcile import counters, drift, drift_scans, retries
from jit.reconcile.models import DriftFinding as FindingRow
from jit.reconcile.models import DriftScanRun, DriftScanStatus


@strawberry.type(description="An assignment in AWS that no live ticket and no declared standing assignment explains.")
class DriftFinding:
    id: strawberry.ID
    account_id: str
    permission_set_arn: str
    principal_type: str
    principal_id: str
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    resolution: str | None = strawberry.field(description="GONE, REMOVED or EXPLAINED once resolved.")

    @strawberry.field
    async def account(self, info: Info[Context, None]) -> Account | None:
        row = await info.context.accounts.load(self.account_id)
        return Account.of(row) if row else None

    @strawberry.field
    async def permission_set(self, info: Info[Context, None]) -> PermissionSet | None:
        row = await info.context.permission_sets.load(self.permission_set_arn)
        return PermissionSet.of(row) if row else None

    @strawberry.field(description="The user, when the principal is a user JIT knows.")
    async def user(self, info: Info[Context, None]) -> User | None:
        if self.principal_type != "USER":
            return None
        row = await info.context.users.load(self.principal_id)
        return User.of(row) if row else None

    @strawberry.field(description="The group, when the principal is a group JIT knows.")
    async def group(self, info: Info[Context, None]) -> Group | None:
        if self.principal_type != "GROUP":
            return None
        row = await info.context.groups.load(self.principal_id)
        return Group.of(row) if row else None

    @classmethod
    def of(cls, row: FindingRow) -> DriftFinding:
        return cls(
            id=strawberry.ID(str(row.id)), account_id=row.account_id, permission_set_arn=row.permission_set_arn,
            principal_type=row.principal_type, principal_id=row.principal_id, first_seen_at=row.first_seen_at,
            last_seen_at=row.last_seen_at, resolved_at=row.resolved_at, resolution=row.resolution,
        )


@strawberry.type(description="A revoke that has failed at least the configured number of times. JIT keeps retrying.")
class RevokeAlert:
    ticket_id: strawberry.ID
    attempts: int
    last_error: str
    next_attempt_at: datetime
    alerted_at: datetime


@strawberry.type
class ReliabilityCounter:
    name: str
    value: int


# Registers the GraphQL enum on DriftScanStatus itself (strawberry.enum returns the class it is given).
strawberry.enum(DriftScanStatus, name="DriftScanStatus")
DriftScanState = DriftScanStatus


@strawberry.type(description="One drift scan and how far it got. A scan spreads its AWS calls over part of "
                             "the drift interval (JIT_DRIFT_SCAN_SPREAD), so it may run for minutes.")
class DriftScan:
    id: strawberry.ID
    status: DriftScanState
    trigger: str = strawberry.field(description="MANUAL (an admin asked) or SCHEDULED (every JIT_DRIFT_INTERVAL).")
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    pairs_total: int = strawberry.field(
        description="Provisioned account and permission set pairs to read; 0 until they are known.")
    pairs_done: int
    calls: int = strawberry.field(description="sso-admin calls made so far.")
    findings: int = strawberry.field(description="Open findings when the scan finished.")
    new: int
    resolved: int
    removed: int
    error: str

    @strawberry.field(description="Pairs read, from 0 to 1; 1 once finished.")
    def progress(self) -> float:
        if self.status == DriftScanStatus.FINISHED:
            return 1.0
        return self.pairs_done / self.pairs_total if self.pairs_total else 0.0

    @classmethod
    def of(cls, row: DriftScanRun) -> DriftScan:
        return cls(
            id=strawberry.ID(str(row.id)), status=row.status, trigger=row.trigger, requested_at=row.requested_at,
            started_at=row.started_at, finished_at=row.finished_at, pairs_total=row.pairs_total,
            pairs_done=row.pairs_done, calls=row.calls, findings=row.findings, new=row.new,
            resolved=row.resolved, removed=row.removed, error=row.error,
        )


@strawberry.type
class DriftScanRequested:
    scan: DriftScan
    queued: bool = strawberry.field(description="False when a scan was already queued or running; this is that one.")


@strawberry.type
class DriftRemoval:
    removed: list[DriftFinding]
    kept: list[DriftFinding] = strawberry.field(description="Findings a live ticket or standing assignment now explains.")
    failed: list[str] = strawberry.field(description="Findings AWS would not delete, with the reason.")


DriftScanResult = Annotated[DriftScanRequested | NotAllowedError | WrongStateError, strawberry.union("DriftScanResult")]
RemoveDriftResult = Annotated[
    DriftRemoval | ValidationError | NotAllowedError | NotFoundError, strawberry.union("RemoveDriftResult")
]


async def _require_reader(info: Info[Context, None]) -> None:
    if not await info.context.runtime.authz.is_admin_or_auditor(info.context.actor.id):
        raise ValueError("only admins and auditors may see drift and revoke alerts")


@strawberry.type
class ReliabilityQuery:
    @query(Scope.READ, description="Open drift findings (admins and auditors).")
    async def drift(self, info: Info[Context, None]) -> list[DriftFinding]:
        await _require_reader(info)
        return [DriftFinding.of(r) for r in await drift.open_findings()]

    @query(Scope.READ, description="The latest drift scan, running or not (admins and auditors).")
    async def last_drift_scan(self, info: Info[Context, None]) -> DriftScan | None:
        await _require_reader(info)
        row = await drift_scans.last_scan()
        return DriftScan.of(row) if row else None

    @query(Scope.READ, description="Revokes that keep failing (admins and auditors).")
    async def revoke_alerts(self, info: Info[Context, None]) -> list[RevokeAlert]:
        await _require_reader(info)
        return [
            RevokeAlert(ticket_id=strawberry.ID(str(r.ticket_id)), attempts=r.attempts, last_error=r.last_error,
                        next_attempt_at=r.next_attempt_at, alerted_at=r.alerted_at)
            for r in await retries.alerts() if r.alerted_at is not None  # alerts() reads only alerted rows
        ]

    @query(Scope.READ, description="Reconciler, revoke and drift counters since the database was created.")
    async def reliability_counters(self, info: Info[Context, None]) -> list[ReliabilityCounter]:
        await _require_reader(info)
        return [ReliabilityCounter(name=k, value=v) for k, v in sorted((await counters.snapshot()).items())]


@strawberry.type
class ReliabilityMutation:
    @mutation(Scope.ADMIN, errors=OUTPUT,
              description="Start comparing AWS with the tickets (admins). Returns at once; follow the "
                          "scan with lastDriftScan. While one runs, returns that one.")
    async def scan_drift(self, info: Info[Context, None]) -> DriftScanResult:
        row, queued = await drift_scans.request_manual_scan(info.context.runtime, info.context.actor.id)
        return DriftScanRequested(scan=DriftScan.of(row), queued=queued)

    @mutation(Scope.ADMIN, errors=OUTPUT,
              description="Delete one drifted assignment from AWS, or all of them (admins).")
    async def remove_drift(
        self, info: Info[Context, None], id: strawberry.ID | None = None, all: bool = False
    ) -> RemoveDriftResult:
        done = await drift.remove_findings(info.context.runtime, info.context.actor.id, id, all)
        return DriftRemoval(removed=[DriftFinding.of(r) for r in done.removed],
                            kept=[DriftFinding.of(r) for r in done.kept], failed=done.failed)
