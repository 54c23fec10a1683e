from __future__ import annotations

import functools
from collections.abc import AsyncGenerator
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from jit import errors
from jit.approvals import service as approvals
from jit.approvals.models import Decision as DecisionRow
from jit.approvals.models import Outcome
from jit.approvals.models import TicketStep as StepRow
from jit.auth.scopes import Scope
from jit.authz.service import TicketParties
from jit.authz.version import current_policy_version
from jit.events.bus import TicketEvent
from jit.graphql.context import Context
from jit.graphql.directory import Account, PermissionSet, User
from jit.graphql.engine_types import BreakGlassReview, Extension
from jit.graphql.errors import NotAllowedError, NotFoundError, ValidationError, WrongStateError
from jit.graphql.resolver import OUTPUT, mutation, query, subscription
from jit.ops import metrics
from jit.runtime import Runtime
from jit.tickets import models, queries
from jit.tickets import service as tickets
from jit.tickets.models import StackEntry as EntryRow
from jit.tickets.warnings import session_warnings

# strawberry.enum registers the GraphQL enum on the domain's own class and returns that
# class; the module names are plain aliases, which mypy accepts in annotations.
strawberry.enum(models.TicketStatus)
strawberry.enum(models.EndReason)
strawberry.enum(models.EntryStatus)
strawberry.enum(models.EntryOrigin)
strawberry.enum(models.UnwindStatus)
strawberry.enum(Outcome, name="DecisionOutcome")
TicketStatus = models.TicketStatus
EndReason = models.EndReason
EntryStatus = models.EntryStatus
EntryOrigin = models.EntryOrigin
UnwindStatus = models.UnwindStatus
DecisionOutcome = Outcome


@strawberry.enum
class StepState(Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@strawberry.type
class Target:
    account_id: str
    permission_set_arn: str
    rule_name: str = strawberry.field(description="The strictest rule that covered this target at request time.")
    permission_set_group: str | None = strawberry.field(
        default=None, description="The permission set group this target was requested as, if any."
    )

    @strawberry.field
    async def account(self, info: Info[Context, None]) -> Account | None:
        row = await info.context.accounts.load(self.account_id)
        return Account.of(row) if row else None

    @strawberry.field
    async def permission_set(self, info: Info[Context, None]) -> PermissionSet | None:
        row = await info.context.permission_sets.load(self.permission_set_arn)
        return PermissionSet.of(row) if row else None


async def _user(info: Info[Context, None], user_id: str | None) -> User | None:
    if user_id is None:
        return None
    row = await info.context.users.load(user_id)
    return User.of(row) if row else None


@strawberry.type
class Decision:
    outcome: DecisionOutcome
    comment: str
    created_at: datetime
    step_position: int
    decider_id: strawberry.Private[str]
    on_behalf_of_id: strawberry.Private[str | None] = None

    @strawberry.field
    async def decider(self, info: Info[Context, None]) -> User | None:
        return await _user(info, self.decider_id)

    @strawberry.field(description="Set when the decider acted through a delegation: \"decider on behalf of X\"; it counts as X's.")
    async def on_behalf_of(self, info: Info[Context, None]) -> User | None:
        return await _user(info, self.on_behalf_of_id)


@strawberry.type
class TicketStep:
    position: int
    name: str
    rule_name: str
    required: int = strawberry.field(description="How many distinct people must approve.")
    approvals: int
    status: StepState
    approver_users: list[str]
    approver_groups: list[str]
    completed_at: datetime | None


@strawberry.type
class StackEntry:
    """One account assignment on the ticket's resource stack."""

    position: int
    account_id: str
    permission_set_arn: str
    principal_type: str
    principal_id: str
    pre_existing: bool
    origin: EntryOrigin | None
    status: EntryStatus
    request_id: str | None
    failure_reason: str | None
    unwind_status: UnwindStatus | None
    unwind_request_id: str | None
    unwind_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: EntryRow) -> StackEntry:
        return cls(**{f: getattr(row, f) for f in (
            "position", "account_id", "permission_set_arn", "principal_type", "principal_id", "pre_existing",
            "origin", "status", "request_id", "failure_reason", "unwind_status", "unwind_request_id",
            "unwind_reason", "created_at", "updated_at")})


@strawberry.type
class HistoryEvent:
    at: datetime
    action: str
    from_status: str | None
    to_status: str | None
    detail: JSON
    actor_id: strawberry.Private[str | None]

    @strawberry.field
    async def actor(self, info: Info[Context, None]) -> User | None:
        return await _user(info, self.actor_id)


@strawberry.type
class Ticket:
    id: strawberry.ID
    status: TicketStatus
    end_reason: EndReason | None
    failure_reason: str | None
    start_at: datetime
    end_at: datetime
    justification: str
    external_ref: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    requester_id: strawberry.Private[str]
    principal_id: strawberry.Private[str]
    approval_expires_at: datetime | None = strawberry.field(
        default=None, description="A ticket still awaiting approval then becomes EXPIRED (never after endAt)."
    )
    starts_when_approved: bool = strawberry.field(
        default=False, description="Its window starts at the final approval; until then startAt and endAt are "
                                   "provisional.")
    break_glass: bool = strawberry.field(default=False, description="The requester approved it themself (break-glass).")
    break_glass_reason: str | None = None
    break_glass_review: BreakGlassReview | None = strawberry.field(
        default=None, description="The post-hoc review; a break-glass ticket stays flagged until it has one."
    )

    @strawberry.field(description="True while a break-glass ticket has not been reviewed.")
    def needs_break_glass_review(self) -> bool:
        return self.break_glass and self.break_glass_review is None

    @strawberry.field(description="Requests to move the end later, oldest first.")
    async def extensions(self, info: Info[Context, None]) -> list[Extension]:
        return [Extension.of(r) for r in await info.context.ticket_extensions.load(str(self.id))]

    @strawberry.field
    def duration_seconds(self) -> int:
        return int((self.end_at - self.start_at).total_seconds())

    @strawberry.field
    async def requester(self, info: Info[Context, None]) -> User | None:
        return await _user(info, self.requester_id)

    @strawberry.field(description="Who receives the access.")
    async def principal(self, info: Info[Context, None]) -> User | None:
        return await _user(info, self.principal_id)

    @strawberry.field
    async def targets(self, info: Info[Context, None]) -> list[Target]:
        rows = await info.context.ticket_targets.load(str(self.id))
        return [Target(account_id=r.account_id, permission_set_arn=r.permission_set_arn, rule_name=r.rule_name,
                       permission_set_group=r.permission_set_group) for r in rows]

    @strawberry.field
    async def steps(self, info: Info[Context, None]) -> list[TicketStep]:
        rows: list[StepRow] = await info.context.ticket_steps.load(str(self.id))
        all_decisions: list[DecisionRow] = await info.context.ticket_decisions.load(str(self.id))
        decisions = [d.step_id for d in all_decisions if d.outcome == Outcome.APPROVED]
        return [
            TicketStep(
                position=r.position, name=r.name, rule_name=r.rule_name, required=r.required,
                approvals=sum(1 for d in decisions if d == r.id), status=StepState(r.status.value),
                approver_users=r.approver_users, approver_groups=r.approver_groups, completed_at=r.completed_at,
            )
            for r in rows
        ]

    @strawberry.field
    async def decisions(self, info: Info[Context, None]) -> list[Decision]:
        rows: list[DecisionRow] = await info.context.ticket_decisions.load(str(self.id))
        return [
            Decision(outcome=r.outcome, comment=r.comment, created_at=r.created_at, step_position=r.step.position,
                     decider_id=r.decider_id, on_behalf_of_id=r.on_behalf_of_id)
            for r in rows
        ]

    @strawberry.field(description="Account assignments in the order they were made; revocation unwinds them in reverse.")
    async def resource_stack(self, info: Info[Context, None]) -> list[StackEntry]:
        return [StackEntry.of(r) for r in await info.context.ticket_stacks.load(str(self.id))]

    @strawberry.field(description="Things the requester should know, e.g. sessions that outlive the ticket.")
    async def warnings(self, info: Info[Context, None]) -> list[str]:
        targets = await info.context.ticket_targets.load(str(self.id))
        arns = sorted({t.permission_set_arn for t in targets})
        permission_sets = [p for p in await info.context.permission_sets.load_many(arns) if p is not None]
        return session_warnings(int((self.end_at - self.start_at).total_seconds()), permission_sets,
                                session_kill=info.context.runtime.settings.session_kill)

    @strawberry.field(description="Every event in the ticket's life, oldest first.")
    async def history(self, info: Info[Context, None]) -> list[HistoryEvent]:
        return [
            HistoryEvent(at=e.at, action=e.action, from_status=e.from_status, to_status=e.to_status,
                         detail=JSON(e.detail), actor_id=e.actor_id)
            for e in await info.context.ticket_histories.load(str(self.id))
        ]

    @classmethod
    def of(cls, row: models.Ticket) -> Ticket:
        return cls(
            id=strawberry.ID(str(row.id)), status=row.status, end_reason=row.end_reason,
            failure_reason=row.failure_reason, start_at=row.start_at, end_at=row.end_at,
            justification=row.justification, external_ref=row.external_ref, created_at=row.created_at,
            updated_at=row.updated_at, version=row.version, requester_id=row.requester_id,
            principal_id=row.principal_id, approval_expires_at=row.approval_expires_at,
            starts_when_approved=row.starts_on_approval, break_glass=row.break_glass, break_glass_reason=row.break_glass_reason,
            break_glass_review=BreakGlassReview(
                reviewed_at=row.break_glass_reviewed_at, comment=row.break_glass_review_comment or "",
                reviewer_id=row.break_glass_reviewed_by,
            ) if row.break_glass_reviewed_at else None,
        )


@strawberry.type
class TicketEdge:
    cursor: str
    node: Ticket


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class TicketConnection:
    edges: list[TicketEdge]
    page_info: PageInfo


@strawberry.input
class TicketFilter:
    status: list[TicketStatus] | None = None
    principal_id: strawberry.ID | None = None
    requester_id: strawberry.ID | None = None
    account_id: str | None = None
    awaiting_my_decision: bool = False
    extension_pending: bool = strawberry.field(
        default=False, description="Only tickets with an extension awaiting a decision that the caller did not ask for."
    )
    break_glass_unreviewed: bool = strawberry.field(
        default=False, description="Only break-glass tickets not yet reviewed."
    )
    created_after: datetime | None = strawberry.field(default=None, description="Inclusive.")
    created_before: datetime | None = strawberry.field(default=None, description="Exclusive.")
    start_after: datetime | None = strawberry.field(default=None, description="Inclusive.")
    start_before: datetime | None = strawberry.field(default=None, description="Exclusive.")


@strawberry.input(description="An account or an OU (which expands to its accounts now), with a permission set or a "
                              "permission set group (one target per permission set).")
class TargetInput:
    account_id: str | None = None
    permission_set: str | None = strawberry.field(default=None, description="A permission set ARN or name.")
    permission_set_group: str | None = strawberry.field(default=None, description="A permission set group name.")
    organizational_unit_id: str | None = strawberry.field(
        default=None, description="An OU id or name path; expands to its accounts (nested OUs included) up to JIT_MAX_TARGETS."
    )


@strawberry.input
class RequestTicketInput:
    targets: list[TargetInput]
    duration_seconds: int
    justification: str = ""
    principal_id: strawberry.ID | None = strawberry.field(default=None, description="Defaults to the caller.")
    start_at: datetime | None = strawberry.field(default=None, description="Defaults to now.")
    external_ref: str | None = strawberry.field(default=None, description="A change number or similar.")
    start_when_approved: bool = strawberry.field(
        default=False, description="The window of durationSeconds starts at the final approval rather than at "
                                   "startAt, so waiting for approvers does not eat it. Not with startAt.")
    break_glass_reason: str | None = strawberry.field(
        default=None, description="Approve the ticket at once by break-glass, with this reason, in the same "
                                  "transaction that creates it: a refusal creates no ticket. Only the requester, "
                                  "for themself or on behalf, and only when every governing rule allows "
                                  "break-glass; the ticket stays flagged until an approver reviews it.")


TicketResult = Annotated[
    Ticket | ValidationError | NotAllowedError | NotFoundError | WrongStateError,
    strawberry.union("TicketResult"),
]


@strawberry.type
class TicketUpdate:
    """One status change, as it happened."""

    ticket_id: strawberry.ID
    previous_status: TicketStatus | None
    status: TicketStatus
    version: int
    at: datetime
    reason: str | None
    ticket: Ticket = strawberry.field(description="The ticket as it is now (it may have moved on since).")
    # One per event, shared by every subscriber who receives it (jit/graphql/sharing.py).
    execution_results: strawberry.Private[dict[tuple[Any, ...], Any] | None] = None


@strawberry.type
class TicketQuery:
    @query(Scope.READ)
    async def ticket(self, info: Info[Context, None], id: strawberry.ID) -> Ticket | None:
        try:
            return Ticket.of(await tickets.get_readable_ticket(info.context.runtime, info.context.actor.id, id))
        except errors.NotFound:
            return None
        except errors.ValidationFailed as exc:
            raise ValueError(exc.message) from None

    @query(Scope.READ, description="Tickets the caller may read, newest first.")
    async def tickets(
        self, info: Info[Context, None], filter: TicketFilter | None = None, first: int = 20, after: str | None = None
    ) -> TicketConnection:
        f = filter or TicketFilter()
        flt = queries.TicketFilter(
            statuses=[models.TicketStatus(s.value) for s in f.status] if f.status else None,
            principal_id=f.principal_id, requester_id=f.requester_id, account_id=f.account_id,
            awaiting_my_decision=f.awaiting_my_decision, extension_pending=f.extension_pending,
            break_glass_unreviewed=f.break_glass_unreviewed, created_after=f.created_after,
            created_before=f.created_before, start_after=f.start_after, start_before=f.start_before,
        )
        try:
            rows, more = await queries.list_tickets(info.context.runtime, info.context.actor.id, flt, first, after)
        except errors.ValidationFailed as exc:
            raise ValueError(exc.message) from None
        edges = [TicketEdge(cursor=queries.encode_cursor(r), node=Ticket.of(r)) for r in rows]
        return TicketConnection(edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None))


@strawberry.type
class TicketMutation:
    @mutation(Scope.REQUEST, errors=OUTPUT, description="Ask for one or more targets for a time window.")
    async def request_ticket(self, info: Info[Context, None], input: RequestTicketInput) -> TicketResult:
        req = tickets.TicketRequest(
            targets=[tickets.TargetRequest(t.account_id, t.permission_set, t.permission_set_group,
                                           t.organizational_unit_id) for t in input.targets],
            duration_seconds=input.duration_seconds, justification=input.justification,
            principal_id=input.principal_id, start_at=input.start_at, external_ref=input.external_ref,
            start_when_approved=input.start_when_approved, break_glass_reason=input.break_glass_reason,
        )
        return Ticket.of(await tickets.request_ticket(info.context.runtime, info.context.actor, req))

    @mutation(Scope.DECIDE, errors=OUTPUT)
    async def approve_ticket(self, info: Info[Context, None], ticket_id: strawberry.ID, comment: str = "") -> TicketResult:
        rt, actor = info.context.runtime, info.context.actor
        return Ticket.of(await approvals.decide(rt, actor, ticket_id, Outcome.APPROVED, comment))

    @mutation(Scope.DECIDE, errors=OUTPUT)
    async def reject_ticket(self, info: Info[Context, None], ticket_id: strawberry.ID, comment: str = "") -> TicketResult:
        rt, actor = info.context.runtime, info.context.actor
        return Ticket.of(await approvals.decide(rt, actor, ticket_id, Outcome.REJECTED, comment))

    @mutation(Scope.REQUEST, errors=OUTPUT, description="End a ticket before it is granted.")
    async def cancel_ticket(self, info: Info[Context, None], ticket_id: strawberry.ID, reason: str = "") -> TicketResult:
        return Ticket.of(await tickets.cancel_ticket(info.context.runtime, info.context.actor, ticket_id, reason))

    @mutation(Scope.REQUEST, Scope.DECIDE, Scope.ADMIN, errors=OUTPUT,
              description="End an active ticket now; its assignments are removed.")
    async def revoke_ticket(self, info: Info[Context, None], ticket_id: strawberry.ID, reason: str = "") -> TicketResult:
        return Ticket.of(await tickets.revoke_ticket(info.context.runtime, info.context.actor, ticket_id, reason))


@strawberry.type
class TicketSubscription:
    @subscription(Scope.READ, description="Every status change of one ticket the caller may read.")
    async def ticket_updated(self, info: Info[Context, None], id: strawberry.ID) -> AsyncGenerator[TicketUpdate, None]:
        rt = info.context.runtime
        actor = info.context.actor
        async with rt.event_hub().subscribe(id) as deliveries:
            try:
                row = await tickets.get_readable_ticket(rt, actor.id, id)
            except errors.DomainError as exc:
                raise ValueError(exc.message) from None
            # The first message is the ticket as it is now; then every change after it.
            yield TicketUpdate(
                ticket_id=id, previous_status=None, status=row.status, version=row.version, at=row.updated_at,
                reason=None, ticket=Ticket.of(row),
            )
            seen = row.version
            async for delivery in deliveries:
                event = delivery.event
                if event.version <= seen:
                    continue
                seen = event.version
                row, parties, policy_version = await delivery.shared(_load_for_subscribers)
                if row is None:
                    return
                # Access can change while the socket is open: decided again for every
                # event, once per reader, with the policy version read for this event.
                if not await delivery.share(
                    ("may_read", actor.id), functools.partial(_may_read, rt, actor.id, parties, policy_version)
                ):
                    return
                yield delivery.once("update", functools.partial(_update_of, event, row))
                # Resumed once the message went out on this socket.
                metrics.observe_live_event((rt.clock.now() - event.at_datetime).total_seconds())


def _update_of(event: TicketEvent, row: models.Ticket) -> TicketUpdate:
    return TicketUpdate(
        ticket_id=strawberry.ID(event.ticket_id),
        previous_status=models.TicketStatus(event.previous_status) if event.previous_status else None,
        status=models.TicketStatus(event.status), version=event.version, at=event.at_datetime,
        reason=event.reason, ticket=Ticket.of(row), execution_results={},
    )


async def _may_read(rt: Runtime, actor_id: str, parties: TicketParties, policy_version: int) -> bool:
    with rt.authz.at_version(policy_version):
        return await rt.authz.may_read(actor_id, parties, rt.clock.now())


async def _load_for_subscribers(
    ticket_id: str,
) -> tuple[models.Ticket, TicketParties, int] | tuple[None, None, None]:
    """What every subscriber of one event needs, read once (jit/events/hub.py)."""
    row = await models.Ticket.get_or_none(id=ticket_id)
    if row is None:
        return None, None, None
    return row, await tickets.ticket_parties(row), await current_policy_version()
