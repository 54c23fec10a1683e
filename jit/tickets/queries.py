"""Read-side queries over tickets, with the caller's visibility applied in the database."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q, RawSQL, Subquery
from tortoise.queryset import QuerySet

from jit.approvals.models import Decision, ExtensionDecision, TicketStep
from jit.errors import ValidationFailed
from jit.runtime import Runtime
from jit.tickets.models import Extension, ExtensionStatus, StackEntry, Target, Ticket, TicketStatus

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


def _text(value: str) -> str:
    """A user id as an SQL string literal: RawSQL takes no parameters."""
    return "'" + value.replace("'", "''") + "'"


def _steps(pairs: set[tuple[str, int]], step: str) -> str:
    """True for a step row `step` that is one of these (rule id, step index) pairs."""
    by_rule: dict[str, set[int]] = {}
    for rule_id, index in pairs:
        by_rule.setdefault(str(uuid.UUID(str(rule_id))), set()).add(int(index))
    return "(" + " OR ".join(
        f'({step}."rule_id" = \'{rid}\' AND {step}."step_index" IN ({", ".join(map(str, sorted(idx)))}))'
        for rid, idx in sorted(by_rule.items())
    ) + ")"


def _counts_for(person: str) -> str:
    """True for a ticket where a decision already counts for `person`, as decider or on behalf."""
    who = _text(person)
    return (f'EXISTS (SELECT 1 FROM "decision" dc WHERE dc."ticket_id" = "ticket"."id"'
            f' AND (dc."decider_id" = {who} OR dc."on_behalf_of_id" = {who}))')


async def awaiting_decision(qs: QuerySet[Ticket], rt: Runtime, actor_id: str) -> QuerySet[Ticket]:
    """The approvals inbox, as a filter paged in the database: pending tickets whose CURRENT
    step (the lowest-position pending one) the actor may decide, themself or for someone who
    delegated to them (that person neither requester nor principal, and not yet counted), that
    the actor did not request, does not receive and has not yet been counted on, inside their
    approval window. Correlated EXISTS per ticket: the newest-first scan stops after a page of
    matches, however many tickets are pending (docs/performance.md, section 3)."""
    now = rt.clock.now()
    decidable = await rt.authz.decidable_steps(actor_id)
    delegated = await rt.authz.delegated_steps(actor_id, now)
    if not decidable and not delegated:
        return qs.filter(id__in=[])
    ways = [_steps(decidable, "cs")] if decidable else []
    for delegator, steps in sorted(delegated.items()):
        d = _text(delegator)
        ways.append(f'({_steps(steps, "cs")} AND "ticket"."requester_id" <> {d}'
                    f' AND "ticket"."principal_id" <> {d} AND NOT {_counts_for(delegator)})')
    current_step_decidable = RawSQL(
        'EXISTS (SELECT 1 FROM "ticket_step" cs WHERE cs."ticket_id" = "ticket"."id" AND cs."status" = \'PENDING\''
        ' AND NOT EXISTS (SELECT 1 FROM "ticket_step" es WHERE es."ticket_id" = cs."ticket_id"'
        ' AND es."status" = \'PENDING\' AND es."position" < cs."position")'
        f' AND ({" OR ".join(ways)}))'
    )
    return qs.filter(
        Q(approval_expires_at__isnull=True) | Q(approval_expires_at__gt=now),
        Q(starts_on_approval=True) | Q(end_at__gt=now), status=TicketStatus.PENDING_APPROVAL,
    ).exclude(requester_id=actor_id).exclude(principal_id=actor_id).exclude(
        id__in=Subquery(Decision.filter(Q(decider_id=actor_id) | Q(on_behalf_of_id=actor_id)).values("ticket_id"))
    ).annotate(current_step_decidable=current_step_decidable).filter(current_step_decidable=True)


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
        for steps in (await rt.authz.delegated_steps(actor_id, rt.clock.now())).values():
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
        qs = await awaiting_decision(qs, rt, actor_id)
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


# The parts of many tickets at once, each grouped by ticket id (str), for the API's dataloaders:
# a page of tickets reads each kind of part in one query, whatever its size.


def _grouped(rows: Iterable[Any], ticket_ids: Sequence[str]) -> list[list[Any]]:
    by_ticket: dict[str, list[Any]] = {t: [] for t in ticket_ids}
    for row in rows:
        by_ticket.setdefault(str(row.ticket_id), []).append(row)
    return [by_ticket[t] for t in ticket_ids]


def _uuids(ticket_ids: Sequence[str]) -> list[uuid.UUID]:
    out = []
    for t in set(ticket_ids):
        try:
            out.append(uuid.UUID(t))
        except ValueError:
            continue
    return out


async def targets_of(ticket_ids: Sequence[str]) -> list[list[Target]]:
    """Each ticket's targets, in the order they were requested."""
    return _grouped(await Target.filter(ticket_id__in=_uuids(ticket_ids)).order_by("id"), ticket_ids)


async def steps_of(ticket_ids: Sequence[str]) -> list[list[TicketStep]]:
    """Each ticket's approval steps, by position."""
    return _grouped(await TicketStep.filter(ticket_id__in=_uuids(ticket_ids)).order_by("ticket_id", "position"),
                    ticket_ids)


async def decisions_of(ticket_ids: Sequence[str]) -> list[list[Decision]]:
    """Each ticket's decisions, oldest first, with their step."""
    rows = await Decision.filter(ticket_id__in=_uuids(ticket_ids)).order_by("id").select_related("step")
    return _grouped(rows, ticket_ids)


async def extensions_of(ticket_ids: Sequence[str]) -> list[list[Extension]]:
    """Each ticket's extension requests, oldest first."""
    rows = await Extension.filter(ticket_id__in=_uuids(ticket_ids)).order_by("created_at", "id")
    return _grouped(rows, ticket_ids)


async def stacks_of(ticket_ids: Sequence[str]) -> list[list[StackEntry]]:
    """Each ticket's resource stack, in the order its assignments were made."""
    rows = await StackEntry.filter(ticket_id__in=_uuids(ticket_ids)).order_by("ticket_id", "position")
    return _grouped(rows, ticket_ids)


async def extension_decisions_of(extension_ids: Sequence[str]) -> list[list[ExtensionDecision]]:
    """Each extension's decisions, oldest first (keyed by extension id)."""
    by_extension: dict[str, list[ExtensionDecision]] = {e: [] for e in extension_ids}
    for row in await ExtensionDecision.filter(extension_id__in=_uuids(extension_ids)).order_by("id"):
        by_extension.setdefault(str(row.extension_id), []).append(row)
    return [by_extension[e] for e in extension_ids]

