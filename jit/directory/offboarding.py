"""After a directory sync: take away what people may no longer hold.

Someone removed from the identity store loses their live tickets, API tokens and
sessions; someone still there but no longer covered by any approval rule for a target
of their ticket (removed from the groups that let them hold it) loses that ticket. Each
ended ticket's audit event says why. Runs after the sync's transaction commits, from the
worker's sync job and from `jit sync`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from jit.auth.service import end_tokens_of_users
from jit.auth.sessions import end_sessions_of_users
from jit.directory.models import Account, PermissionSet, User
from jit.runtime import Runtime
from jit.tickets.models import Target, Ticket, TicketStatus
from jit.tickets.service import end_for_offboarding

log = logging.getLogger(__name__)

S = TicketStatus
# GRANTING is left to the grant, which checks authorization again before it writes.
_HELD = (S.PENDING_APPROVAL, S.SCHEDULED, S.ACTIVE)
REMOVED = "user removed"


@dataclass
class OffboardingReport:
    tickets: dict[str, str] = field(default_factory=dict)  # ticket id -> why it ended
    tokens: list[int] = field(default_factory=list)
    sessions: list[int] = field(default_factory=list)


async def offboard(rt: Runtime) -> OffboardingReport:
    report = OffboardingReport()
    removed: set[str] = {str(u) for u in await User.exclude(removed_at=None).values_list("id", flat=True)}
    if removed:
        async with in_transaction():
            report.tokens = await end_tokens_of_users(rt.clock, sorted(removed), REMOVED)
            report.sessions = await end_sessions_of_users(rt.clock, sorted(removed), REMOVED)
        await rt.credentials_ended(report.tokens, report.sessions)

    tickets = await Ticket.filter(status__in=_HELD)
    if not tickets:
        return report
    targets = await Target.filter(ticket_id__in=[t.id for t in tickets])
    accounts = {a.id: a for a in await Account.filter(id__in={t.account_id for t in targets})}
    sets = {p.arn: p.name for p in await PermissionSet.all()}
    names: dict[str, str] = dict(await User.filter(id__in={t.principal_id for t in tickets}).values_list("id", "user_name"))
    by_ticket: dict[str, list[Target]] = {}
    for target in targets:
        by_ticket.setdefault(str(target.ticket_id), []).append(target)
    for ticket in tickets:
        reason = None
        if ticket.principal_id in removed:
            reason = f"{names.get(ticket.principal_id, ticket.principal_id)} was removed from the identity store"
        else:
            for target in by_ticket.get(str(ticket.id), []):
                account = accounts.get(target.account_id)
                if account is None or not await rt.authz.rules_covering(
                        ticket.principal_id, account, target.permission_set_arn):
                    ps = sets.get(target.permission_set_arn, target.permission_set_arn)
                    reason = (f"no approval rule lets {names.get(ticket.principal_id, ticket.principal_id)} hold "
                              f"{ps} on {account.name if account else target.account_id} any more")
                    break
        if reason is not None and await end_for_offboarding(rt, ticket, reason) is not None:
            report.tickets[str(ticket.id)] = reason
    if report.tickets or report.tokens or report.sessions:
        log.info("offboarding: ended %d ticket(s), %d token(s), %d session(s)",
                 len(report.tickets), len(report.tokens), len(report.sessions))
    return report
