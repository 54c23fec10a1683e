"""The audit log over GraphQL: `auditEvents`, for admins and auditors (docs/audit.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from jit import errors
from jit.audit import queries, verifications
from jit.audit.models import AuditEvent as EventRow
from jit.audit.models import AuditVerificationRun as VerificationRow
from jit.auth.scopes import Scope
from jit.graphql.context import Context
from jit.graphql.directory import User
from jit.graphql.errors import NotAllowedError, ValidationError, WrongStateError
from jit.graphql.resolver import OUTPUT, mutation, query
from jit.graphql.tickets import PageInfo


@strawberry.type(description="One entry of the append-only, hash-chained audit log.")
class AuditEvent:
    id: strawberry.ID
    seq: int = strawberry.field(description="Position in the chain; the connection's order.")
    at: datetime
    action: str = strawberry.field(description="What happened, as domain.verb: ticket.active, token.created, ...")
    actor_id: str | None = strawberry.field(description="The user who acted; null for JIT itself.")
    on_behalf_of: str | None = strawberry.field(description="Whom the actor acted for (a delegator, a principal).")
    subject_type: str | None = strawberry.field(description="ticket, rule, delegation, token, user, sync, drift, ...")
    subject_id: str | None
    ticket_id: strawberry.ID | None
    from_status: str | None
    to_status: str | None
    detail: JSON
    before: JSON | None
    after: JSON | None
    prev_hash: str
    hash: str

    @strawberry.field
    async def actor(self, info: Info[Context, None]) -> User | None:
        if self.actor_id is None:
            return None
        row = await info.context.users.load(self.actor_id)
        return User.of(row) if row else None

    @classmethod
    def of(cls, row: EventRow) -> AuditEvent:
        return cls(
            id=strawberry.ID(str(row.id)), seq=row.seq, at=row.at, action=row.action, actor_id=row.actor_id,
            on_behalf_of=row.on_behalf_of, subject_type=row.subject_type, subject_id=row.subject_id,
            ticket_id=strawberry.ID(str(row.ticket_id)) if row.ticket_id else None, from_status=row.from_status,
            to_status=row.to_status, detail=JSON(row.detail), before=row.before, after=row.after,
            # Nullable columns only for the unsaved event: jit.audit.service.record sets both
            # hashes before every insert, so a stored row always has them.
            prev_hash=cast(str, row.prev_hash), hash=cast(str, row.hash),
        )


@strawberry.type
class AuditEventEdge:
    cursor: str
    node: AuditEvent


@strawberry.type
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: PageInfo


@strawberry.input
class AuditEventFilter:
    actor_id: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    ticket_id: strawberry.ID | None = strawberry.field(default=None, description="Only this ticket's events.")
    types: list[str] | None = strawberry.field(default=None, description="Actions, e.g. [\"ticket.active\", \"token.created\"].")
    since: datetime | None = strawberry.field(default=None, description="Inclusive.")
    until: datetime | None = strawberry.field(default=None, description="Exclusive.")


@strawberry.type(description="One run of the chain verification (`jit audit verify` or Verify now) and its result.")
class AuditVerification:
    id: strawberry.ID
    trigger: str = strawberry.field(description="MANUAL (the console's Verify now) or CLI (jit audit verify).")
    status: str = strawberry.field(description="QUEUED, RUNNING, OK, BROKEN or FAILED.")
    requested_by: str | None
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    checked: int = strawberry.field(description="Events verified.")
    first_seq: int = strawberry.field(description="Where verification started: 0 is genesis, else the pruning checkpoint.")
    head_seq: int
    broken_seq: int | None
    broken_event_id: str | None
    reason: str = strawberry.field(description="Why the chain is broken, or why the run failed.")

    @classmethod
    def of(cls, row: VerificationRow) -> AuditVerification:
        return cls(
            id=strawberry.ID(str(row.id)), trigger=row.trigger, status=row.status, requested_by=row.requested_by,
            requested_at=row.requested_at, started_at=row.started_at, finished_at=row.finished_at,
            checked=row.checked, first_seq=row.first_seq, head_seq=row.head_seq, broken_seq=row.broken_seq,
            broken_event_id=str(row.broken_event_id) if row.broken_event_id is not None else None, reason=row.reason,
        )


@strawberry.type(description="The audit chain's verification status.")
class AuditChainStatus:
    last_result: AuditVerification | None = strawberry.field(description="The latest finished verification.")
    in_progress: AuditVerification | None = strawberry.field(description="A verification queued or running now.")


@strawberry.type
class AuditVerificationRequested:
    verification: AuditVerification
    queued: bool = strawberry.field(description="False when one was already queued or running; that one is returned.")


AuditChainStatusResult = Annotated[AuditChainStatus | NotAllowedError, strawberry.union("AuditChainStatusResult")]
VerifyAuditChainResult = Annotated[
    AuditVerificationRequested | NotAllowedError | WrongStateError, strawberry.union("VerifyAuditChainResult")
]

AuditEventsResult = Annotated[
    AuditEventConnection | ValidationError | NotAllowedError, strawberry.union("AuditEventsResult")
]


async def require_audit_reader(info: Info[Context, None]) -> None:
    if not await info.context.runtime.authz.is_admin_or_auditor(info.context.actor.id):
        raise errors.NotAllowed("only admins and auditors may read the audit log")


@strawberry.type
class AuditQuery:
    @query(Scope.READ, errors=OUTPUT,
           description="The audit log, oldest first (by seq), filtered (admins and auditors).")
    async def audit_events(
        self, info: Info[Context, None], filter: AuditEventFilter | None = None, first: int = 50,
        after: str | None = None,
    ) -> AuditEventsResult:
        f = filter or AuditEventFilter()
        await require_audit_reader(info)
        flt = queries.AuditFilter(
            actor_id=f.actor_id, subject_type=f.subject_type, subject_id=f.subject_id,
            ticket_id=str(f.ticket_id) if f.ticket_id else None, actions=list(f.types or []),
            since=f.since, until=f.until,
        )
        rows, more = await queries.list_events(flt, first, after)
        edges = [AuditEventEdge(cursor=queries.encode_cursor(r), node=AuditEvent.of(r)) for r in rows]
        return AuditEventConnection(
            edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None)
        )

    @query(Scope.READ, errors=OUTPUT,
           description="The chain's verification status: the last result and any run in progress "
                       "(admins and auditors).")
    async def audit_chain_status(self, info: Info[Context, None]) -> AuditChainStatusResult:
        await require_audit_reader(info)
        last, latest = await verifications.last_finished(), await verifications.latest()
        running = latest if latest is not None and latest.status in (verifications.QUEUED, verifications.RUNNING) else None
        return AuditChainStatus(last_result=AuditVerification.of(last) if last else None,
                                in_progress=AuditVerification.of(running) if running else None)


@strawberry.type
class AuditMutation:
    @mutation(Scope.ADMIN, errors=OUTPUT,
              description="Verify the audit chain in the background (admins); follow it with "
                          "auditChainStatus. While one runs, returns that one.")
    async def verify_audit_chain(self, info: Info[Context, None]) -> VerifyAuditChainResult:
        row, queued = await verifications.request(info.context.runtime, info.context.actor.id)
        return AuditVerificationRequested(verification=AuditVerification.of(row), queued=queued)
