"""The approval window: unapproved tickets expire; approvers are reminded first."""

from __future__ import annotations

import pytest

from jit.approvals import window
from jit.approvals.models import Outcome
from jit.approvals.service import decide
from jit.audit.models import AuditEvent
from jit.errors import WrongState
from jit.tickets.models import Ticket, TicketStatus as S


async def test_an_unapproved_ticket_expires_after_the_window_and_reminds_before(demo):
    ticket = await demo.request("alice", [("payments-prod", "PowerUserAccess")])  # prod-change: 4 h window
    assert (ticket.approval_expires_at - ticket.created_at).total_seconds() == 14400
    jobs = {j.job_id: j for j in await demo.rt.redis.queued_jobs()}
    assert f"approvals.expire:{ticket.id}" in jobs and f"approvals.remind:{ticket.id}" in jobs

    assert (await window.remind(demo.rt, str(ticket.id))).result == "reminded"
    reminder = await AuditEvent.get(ticket_id=ticket.id, action="approval.reminder")
    assert reminder.detail["step"] == "Team leads" and reminder.detail["approver_groups"] == ["approvers"]

    assert (await window.expire(demo.rt, str(ticket.id))).result == "early"
    demo.rt.clock.advance(seconds=14400)
    with pytest.raises(WrongState):  # the window closed: no late approval
        await decide(demo.rt, await demo.user("bob"), str(ticket.id), Outcome.APPROVED)
    assert (await window.expire(demo.rt, str(ticket.id))).result == "expired"
    assert (await Ticket.get(id=ticket.id)).status == S.EXPIRED
    assert (await window.expire(demo.rt, str(ticket.id))).result == "done"


async def test_an_approved_ticket_does_not_expire(demo):
    ticket = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    await decide(demo.rt, await demo.user("bob"), str(ticket.id), Outcome.APPROVED)
    demo.rt.clock.advance(days=2)
    assert (await window.expire(demo.rt, str(ticket.id))).result == "done"
    assert (await window.remind(demo.rt, str(ticket.id))).result == "done"
    assert (await Ticket.get(id=ticket.id)).status == S.SCHEDULED


async def test_the_reconciler_expires_tickets_whose_job_was_lost(demo):
    ticket = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    await demo.rt.redis.flushdb()
    demo.rt.clock.advance(days=1, seconds=1)
    assert await window.expire_due(demo.rt) == 1
    assert (await Ticket.get(id=ticket.id)).status == S.EXPIRED
