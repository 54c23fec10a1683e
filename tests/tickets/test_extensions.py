"""Extensions move the end (and the revoke job) without a gap; rejected or expired ones
leave the end alone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jit.approvals.models import Outcome
from jit.approvals.service import decide
from jit.audit.models import AuditEvent
from jit.errors import NotAllowed, ValidationFailed, WrongState
from jit.tickets import plan, stack
from jit.tickets.extensions import decide_extension, expire_extension, request_extension
from jit.tickets.models import Extension, Ticket
from jit.tickets.models import ExtensionStatus as E
from jit.tickets.models import TicketStatus as S


async def _active_prod_read(demo, duration=3600):
    ticket = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")], duration=duration)
    await decide(demo.rt, await demo.user("bob"), str(ticket.id), Outcome.APPROVED)
    assert (await stack.grant(demo.rt, str(ticket.id))).result == "granted"
    return await Ticket.get(id=ticket.id)


async def test_an_approved_extension_moves_the_end_without_a_gap(demo):
    ticket = await _active_prod_read(demo)
    alice = await demo.user("alice")
    old_end = ticket.end_at
    ext = await request_extension(demo.rt, alice, str(ticket.id), 1800, "the migration runs long")
    assert ext.status == E.PENDING and ext.steps_required == 1
    ext = await decide_extension(demo.rt, await demo.user("carol"), str(ext.id), Outcome.APPROVED, "ok")
    assert ext.status == E.APPROVED
    ticket = await Ticket.get(id=ticket.id)
    assert ticket.end_at == old_end + timedelta(seconds=1800) and ticket.status == S.ACTIVE

    # The revoke job for the old end finds the ticket not yet due; access stays.
    demo.rt.clock.advance(seconds=3601)
    assert (await stack.revoke(demo.rt, str(ticket.id))).result == "early"
    assert len(demo.assignments("payments-prod", "ReadOnlyAccess", "alice")) == 1
    jobs = {j.job_id for j in await demo.rt.redis.queued_jobs()}
    # ... and the one for the new end starts its revoke early enough to settle by then.
    assert plan.revoke_job_id(str(ticket.id), plan.revoke_starts(demo.rt, ticket)) in jobs
    demo.rt.clock.advance(seconds=1800)
    assert (await stack.revoke(demo.rt, str(ticket.id))).result == "revoked"
    assert demo.assignments("payments-prod", "ReadOnlyAccess", "alice") == []
    actions = [e.action for e in await AuditEvent.filter(ticket_id=ticket.id).order_by("id")]
    assert "extension.requested" in actions and "ticket.extended" in actions


async def test_rejected_and_expired_extensions_leave_the_end(demo):
    ticket = await _active_prod_read(demo)
    alice = await demo.user("alice")
    ext = await request_extension(demo.rt, alice, str(ticket.id), 600, "more")
    await decide_extension(demo.rt, await demo.user("carol"), str(ext.id), Outcome.REJECTED, "no")
    assert (await Extension.get(id=ext.id)).status == E.REJECTED
    ext2 = await request_extension(demo.rt, alice, str(ticket.id), 600, "please")
    assert await expire_extension(demo.rt, str(ext2.id)) == "early"
    demo.rt.clock.advance(seconds=3600)  # a pending extension expires at the latest when the ticket ends
    assert await expire_extension(demo.rt, str(ext2.id)) == "expired"
    assert (await Ticket.get(id=ticket.id)).end_at == ticket.end_at
    with pytest.raises(WrongState):
        await decide_extension(demo.rt, await demo.user("carol"), str(ext2.id), Outcome.APPROVED)


async def test_a_rule_without_approval_extends_at_once(demo):
    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=3600, justification="")
    ext = await request_extension(demo.rt, await demo.user("alice"), str(ticket.id), 600, "a bit more")
    assert ext.status == E.APPROVED
    assert (await Ticket.get(id=ticket.id)).end_at == ticket.end_at + timedelta(seconds=600)


async def test_only_the_requester_or_principal_extends(demo):
    ticket = await _active_prod_read(demo)
    with pytest.raises(NotAllowed):
        await request_extension(demo.rt, await demo.user("bob"), str(ticket.id), 600, "x")


@pytest.mark.parametrize("case,error,field", [
    ("overlapping", ValidationFailed, "ticketId"),
    ("past the maximum total", ValidationFailed, "additionalDurationSeconds"),
    ("no reason", ValidationFailed, "reason"),
    ("not positive", ValidationFailed, "additionalDurationSeconds"),
    ("too many", ValidationFailed, "ticketId"),
])
async def test_bad_extensions_write_nothing(demo, case, error, field):
    ticket = await _active_prod_read(demo)
    alice = await demo.user("alice")
    if case == "overlapping":
        await request_extension(demo.rt, alice, str(ticket.id), 600, "first")
    if case == "too many":  # prod-read-only allows two
        for _ in range(2):
            ext = await request_extension(demo.rt, alice, str(ticket.id), 60, "more")
            await decide_extension(demo.rt, await demo.user("carol"), str(ext.id), Outcome.APPROVED)
    before = (await Extension.all().count(), await AuditEvent.all().count(), (await Ticket.get(id=ticket.id)).end_at)
    args = {"overlapping": (600, "second"), "past the maximum total": (28800, "long"), "no reason": (60, " "),
            "not positive": (0, "zero"), "too many": (60, "third")}[case]
    with pytest.raises(error) as info:
        await request_extension(demo.rt, alice, str(ticket.id), *args)
    assert info.value.field == field
    after = (await Extension.all().count(), await AuditEvent.all().count(), (await Ticket.get(id=ticket.id)).end_at)
    assert after == before
