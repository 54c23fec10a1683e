"""Read-side queries over tickets, with the caller's visibility applied in the database."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q, RawSQL, Subquery

from jit.approvals.models import Decision, StepStatus, TicketStep
from jit.errors import ValidationFailed
from jit.runtime import Runtime
from jit.tickets.models import Extension, ExtensionStatus, Target, Ticket, TicketStatus

MAX_PAGE = 100


@dataclass
class TicketFilter:
    statuses: list[TicketStatus] | None = None
    principal_id: str | None = None
    requester_id: str | None = None
    account_id: str | None = None
    awaiting_my_decision: bool = False
    # Tickets with an extension waiting for a decision, not asked for by the caller.
    extension_pending: bool = False
    break_glass_unreviewed: bool = False
    created_after: datetime | None = None
    created_before: datetime | None = None
    start_after: datetime | None = None
    start_before: datetime | None = None


def encode_cursor(ticket: Ticket) -> str:
    return base64.urlsafe_b64encode(f"{ticket.created_at.isoformat()}|{ticket.id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created, _, ticket_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(created), uuid.UUID(ticket_id)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("malformed cursor", field="after") from None


async def awaiting_decision_ids(rt: Runtime, actor_id: str) -> list[uuid.UUID]:
    """Pending tickets whose current step the actor may decide, themself or for someone
    who delegated to them, and for which no decision counts yet for that person."""
    now = rt.clock.now()
    decidable = await rt.authz.decidable_steps(actor_id)
    delegated = await rt.authz.delegated_steps(actor_id, now)
    if not decidable and not delegated:
        return []
    pending = await TicketStep.filter(
        status=StepStatus.PENDING, ticket__status=TicketStatus.PENDING_APPROVAL
    ).filter(
        Q(ticket__approval_expires_at__isnull=True) | Q(ticket__approval_expires_at__gt=now)
    ).exclude(ticket__requester_id=actor_id).exclude(ticket__principal_id=actor_id).order_by("ticket_id", "position").values(
        "ticket_id", "rule_id", "step_index", "ticket__requester_id", "ticket__principal_id"
    )
    current: dict[uuid.UUID, tuple[tuple[str, int], tuple[str, str]]] = {}
    for row in pending:
        current.setdefault(
            row["ticket_id"],
            ((str(row["rule_id"]), row["step_index"]), (row["ticket__requester_id"], row["ticket__principal_id"])),
        )
    counted: dict[uuid.UUID, set[str]] = {}
    for ticket_id, decider, on_behalf in await Decision.filter(ticket_id__in=list(current)).values_list(
        "ticket_id", "decider_id", "on_behalf_of_id"
    ):
        counted.setdefault(ticket_id, set()).update({decider, on_behalf or decider})
    result = []
    for tid, (step, selves) in current.items():
        done = counted.get(tid, set())
        if actor_id in done:
            continue
        if step in decidable or any(
            step in steps and delegator not in selves and delegator not in done
            for delegator, steps in delegated.items()
        ):
            result.append(tid)
    return result


def _governed_by(rule_ids: list[str]) -> RawSQL:
    """True for a ticket with a target or step under one of these rules. A correlated
    EXISTS, not `id IN (every ticket of those rules)`: the newest-first page then stops
    after a page of matches instead of first collecting a third of all tickets
    (docs/performance.md). Rule ids are UUIDs, formatted from parsed values only."""
    ids = ", ".join(f"'{uuid.UUID(str(rid))}'" for rid in dict.fromkeys(rule_ids))
    return RawSQL(
        f'(EXISTS (SELECT 1 FROM "ticket_target" gt WHERE gt."ticket_id" = "ticket"."id" AND gt."rule_id" IN ({ids}))'
        f' OR EXISTS (SELECT 1 FROM "ticket_step" gs WHERE gs."ticket_id" = "ticket"."id" AND gs."rule_id" IN ({ids})))'
    )


async def list_tickets(
    rt: Runtime, actor_id: str, flt: TicketFilter, first: int, after: str | None
) -> tuple[list[Ticket], bool]:
    if first < 1 or first > MAX_PAGE:
        raise ValidationFailed(f"first must be between 1 and {MAX_PAGE}", field="first")
    qs = Ticket.all()
    if not await rt.authz.reads_everything(actor_id):
        rule_ids = list(await rt.authz.readable_rule_ids(actor_id))
        # A delegate sees what their delegators may read under the delegated rules.
        for delegator, steps in (await rt.authz.delegated_steps(actor_id, rt.clock.now())).items():
            rule_ids.extend({rid for rid, _ in steps})
        visible = Q(requester_id=actor_id) | Q(principal_id=actor_id)
        if rule_ids:
            qs = qs.annotate(governed_by_readable_rule=_governed_by(rule_ids))
            visible |= Q(governed_by_readable_rule=True)
        qs = qs.filter(visible)
    if flt.statuses:
        qs = qs.filter(status__in=flt.statuses)
    if flt.principal_id:
        qs = qs.filter(principal_id=flt.principal_id)
    if flt.requester_id:
        qs = qs.filter(requester_id=flt.requester_id)
    if flt.account_id:
        qs = qs.filter(id__in=Subquery(Target.filter(account_id=flt.account_id).values("ticket_id")))
    if flt.awaiting_my_decision:
        qs = qs.filter(id__in=await awaiting_decision_ids(rt, actor_id))
    if flt.extension_pending:
        qs = qs.filter(id__in=Subquery(
            Extension.filter(status=ExtensionStatus.PENDING).exclude(requester_id=actor_id).values("ticket_id")
        ))
    if flt.break_glass_unreviewed:
        qs = qs.filter(break_glass=True, break_glass_reviewed_at__isnull=True)
    for bound, lookup in ((flt.created_after, "created_at__gte"), (flt.created_before, "created_at__lt"),
                          (flt.start_after, "start_at__gte"), (flt.start_before, "start_at__lt")):
        if bound is not None:
            qs = qs.filter(**{lookup: bound})
    if after:
        created, ticket_id = decode_cursor(after)
        qs = qs.filter(Q(created_at__lt=created) | (Q(created_at=created) & Q(id__lt=ticket_id)))
    rows = await qs.order_by("-created_at", "-id").limit(first + 1)
    return rows[:first], len(rows) > first
