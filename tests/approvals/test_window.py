"""The approval window: unapproved tickets expire; approvers are reminded first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jit.approvals import window
from jit.approvals.models import Outcome
from jit.approvals.service import decide
from jit.audit.models import AuditEvent
from jit.errors import ValidationFailed, WrongState
from jit.tickets.models import Ticket
from jit.tickets.models import TicketStatus as S
from tests.tickets.test_inbox import inbox


async def test_an_unapproved_ticket_expires_after_the_window_and_reminds_before(demo):
    # prod-change: a 4 h approval window; the ticket's own window is later, so it does not cut it short.
    ticket = await demo.request("alice", [("payments-prod", "PowerUserAccess")],
                                start_at=demo.rt.clock.now() + timedelta(hours=4))
    assert (ticket.approval_expires_at - ticket.created_at).total_seconds() == 14400
    jobs = {j.job_id: j for j in await demo.rt.redis.queued_jobs()}
    assert f"approvals.expire:{ticket.id}" in jobs and f"approvals.remind:{ticket.id}" in jobs

    assert (await window.remind(demo.rt, str(ticket.id))).result == "reminded"
    reminder = await AuditEvent.get(ticket_id=ticket.id, action="approval.reminder")
    assert reminder.detail["step"] == "Team leads" and reminder.detail["approver_groups"] == ["approvers"]

    assert (await window.expire(demo.rt, str(ticket.id))).result == "early"
    demo.rt.clock.advance(seconds=14400)
    assert (await window.expire(demo.rt, str(ticket.id))).result == "expired"
    assert (await Ticket.get(id=ticket.id)).status == S.EXPIRED
    with pytest.raises(WrongState):  # the window closed: no late approval
        await decide(demo.rt, await demo.user("bob"), str(ticket.id), Outcome.APPROVED)
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


async def test_a_ticket_whose_window_passed_unapproved_expires_and_leaves_the_inbox(demo):
    # payments-read: a 24 h approval window, but the ticket asked for the next hour only.
    ticket = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")], duration=3600)
    assert ticket.approval_expires_at == ticket.end_at
    assert ticket.id in await inbox(demo, "bob")
    demo.rt.clock.advance(seconds=3601)
    assert ticket.id not in await inbox(demo, "bob")
    with pytest.raises(WrongState) as err:  # not SCHEDULED and then FAILED
        await decide(demo.rt, await demo.user("bob"), str(ticket.id), Outcome.APPROVED)
    assert err.value.current == "EXPIRED" and "window has passed" in err.value.message
    assert (await Ticket.get(id=ticket.id)).status == S.EXPIRED
    event = await AuditEvent.get(ticket_id=ticket.id, action="ticket.expired")
    assert event.detail["reason"] == "window passed before it was approved"


async def test_the_expiry_cron_catches_a_pending_ticket_past_its_end(demo):
    """A deadline written before deadlines stopped at the end (or a lost job): the cron
    that expires overdue approvals also expires pending tickets whose window passed."""
    ticket = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")], duration=3600)
    await Ticket.filter(id=ticket.id).update(approval_expires_at=ticket.created_at + timedelta(days=1))
    await demo.rt.redis.flushdb()
    demo.rt.clock.advance(seconds=3600)
    assert await window.expire_due(demo.rt) == 1
    assert (await Ticket.get(id=ticket.id)).status == S.EXPIRED


async def test_start_when_approved_gives_the_whole_window_from_the_approval(demo):
    ticket = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")], duration=3600,
                                start_when_approved=True)
    assert ticket.starts_on_approval
    assert (ticket.approval_expires_at - ticket.created_at) == timedelta(days=1)  # the rule's window, not the hour
    demo.rt.clock.advance(hours=3)
    assert ticket.id in await inbox(demo, "bob")
    assert await window.expire_due(demo.rt) == 0
    approved = await decide(demo.rt, await demo.user("bob"), str(ticket.id), Outcome.APPROVED)
    assert approved.status == S.SCHEDULED
    assert approved.start_at == demo.rt.clock.now()
    assert approved.end_at == demo.rt.clock.now() + timedelta(hours=1)
    stored = await Ticket.get(id=ticket.id)
    assert (stored.start_at, stored.end_at) == (approved.start_at, approved.end_at)


async def test_start_when_approved_and_a_start_time_are_one_too_many(demo):
    with pytest.raises(ValidationFailed) as err:
        await demo.request("alice", [("payments-prod", "ReadOnlyAccess")], start_when_approved=True,
                           start_at=demo.rt.clock.now() + timedelta(hours=1))
    assert err.value.field == "startAt"
