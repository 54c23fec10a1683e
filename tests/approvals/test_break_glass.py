"""Break-glass: self-approval with a reason where the rule allows it, flagged until reviewed."""

from __future__ import annotations

import pytest

from jit.approvals.break_glass import break_glass, review_break_glass
from jit.audit.models import AuditEvent
from jit.errors import NotAllowed, ValidationFailed, WrongState
from jit.tickets.models import Ticket
from jit.tickets.models import TicketStatus as S


async def test_break_glass_grants_at_once_and_stays_flagged_until_reviewed(demo):
    ticket = await demo.request("alice", [("payments-prod", "AdministratorAccess")])
    alice = await demo.user("alice")
    ticket = await break_glass(demo.rt, alice, str(ticket.id), "payments are down, INC-7")
    assert ticket.status == S.SCHEDULED and ticket.break_glass
    jobs = [j.function for j in await demo.rt.redis.queued_jobs()]
    assert "tickets.grant" in jobs
    assert await AuditEvent.filter(ticket_id=ticket.id, action="ticket.break_glass").count() == 1
    with pytest.raises(NotAllowed):  # not by the requester
        await review_break_glass(demo.rt, alice, str(ticket.id))
    with pytest.raises(NotAllowed):  # an admin reads every ticket but is not an approver of the rule
        await review_break_glass(demo.rt, await demo.user("admin"), str(ticket.id))
    reviewed = await review_break_glass(demo.rt, await demo.user("dave"), str(ticket.id), "justified")
    assert reviewed.break_glass and reviewed.break_glass_reviewed_by == (await demo.user("dave")).id
    with pytest.raises(WrongState):
        await review_break_glass(demo.rt, await demo.user("bob"), str(ticket.id))


async def test_a_rule_without_break_glass_never_allows_self_approval(demo):
    ticket = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    with pytest.raises(NotAllowed):
        await break_glass(demo.rt, await demo.user("alice"), str(ticket.id), "urgent")
    assert (await Ticket.get(id=ticket.id)).status == S.PENDING_APPROVAL


async def test_break_glass_without_a_reason_writes_nothing(demo):
    ticket = await demo.request("alice", [("payments-prod", "AdministratorAccess")])
    before = await AuditEvent.all().count()
    with pytest.raises(ValidationFailed) as info:
        await break_glass(demo.rt, await demo.user("alice"), str(ticket.id), "   ")
    assert info.value.field == "reason"
    assert await AuditEvent.all().count() == before
    assert (await Ticket.get(id=ticket.id)).status == S.PENDING_APPROVAL
