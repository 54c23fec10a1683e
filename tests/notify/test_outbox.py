"""The outbox: notifications are written with the event that causes them, for the right
people, once per event."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jit.approvals.break_glass import break_glass
from jit.approvals.delegations import DelegationRequest, create_delegation
from jit.approvals.models import Outcome
from jit.approvals.service import decide
from jit.audit.service import record
from jit.errors import ValidationFailed
from jit.notify import service as notify_service
from jit.notify.models import Notification
from jit.notify.models import NotificationKind as K
from jit.tickets.models import Ticket
from jit.tickets.models import TicketStatus as S
from jit.tickets.state import transition


async def _ids(world, *names: str) -> list[str]:
    return sorted([f"user:{(await world.user(n)).id}" for n in names])


async def _of(kind: K, ticket=None) -> list[Notification]:
    qs = Notification.filter(kind=kind)
    if ticket is not None:
        qs = qs.filter(ticket_id=ticket.id)
    return await qs


async def test_a_request_tells_the_approvers_of_its_first_step_and_not_the_requester(world):
    ticket = await world.request("alice", [("payments-dev", "PowerUserAccess")])
    [row] = await _of(K.DECISION_NEEDED, ticket)
    assert row.recipients == await _ids(world, "bob", "carol")
    assert row.payload["ticket"]["principal"] and row.payload["detail"]["step"] == "Team lead"
    assert row.payload["ticket"]["targets"][0]["permission_set"] == "PowerUserAccess"


async def test_an_approval_that_completes_a_step_tells_the_next_steps_approvers(world):
    ticket = await world.request("alice", [("payments-prod", "PowerUserAccess")])
    assert [r.recipients for r in await _of(K.DECISION_NEEDED, ticket)] == [await _ids(world, "bob", "carol")]
    await decide(world.rt, await world.user("bob"), str(ticket.id), Outcome.APPROVED)
    assert len(await _of(K.DECISION_NEEDED, ticket)) == 1  # the step needs two people
    await decide(world.rt, await world.user("carol"), str(ticket.id), Outcome.APPROVED)
    rows = await Notification.filter(kind=K.DECISION_NEEDED, ticket_id=ticket.id).order_by("id")
    assert [r.recipients for r in rows][1] == await _ids(world, "dave")
    await decide(world.rt, await world.user("dave"), str(ticket.id), Outcome.APPROVED)
    [approved] = await _of(K.APPROVED, ticket)
    assert approved.recipients == await _ids(world, "alice")
    assert approved.payload["actor"]


async def test_a_delegate_is_told_when_a_ticket_needs_the_delegators_decision(world):
    bob = await world.user("bob")
    now = world.rt.clock.now()
    await create_delegation(world.rt, bob, DelegationRequest(
        delegate_id=(await world.user("maria")).id, starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=1), reason="on leave"))
    [created] = await _of(K.DELEGATION_CREATED)
    assert created.recipients == await _ids(world, "maria")
    assert created.payload["detail"]["delegator_name"]
    ticket = await world.request("alice", [("payments-dev", "PowerUserAccess")])
    [row] = await _of(K.DECISION_NEEDED, ticket)
    assert row.recipients == await _ids(world, "bob", "carol", "maria")


async def test_a_request_on_behalf_tells_the_principal(world):
    ticket = await world.request("maria", [("payments-dev", "PowerUserAccess")], principal_id=(await world.user("alice")).id)
    [row] = await _of(K.REQUESTED_FOR_YOU, ticket)
    assert row.recipients == await _ids(world, "alice")
    [needed] = await _of(K.DECISION_NEEDED, ticket)
    assert needed.recipients == await _ids(world, "bob", "carol")


async def test_a_rejection_tells_the_requester(world):
    ticket = await world.request("alice", [("payments-dev", "PowerUserAccess")])
    await decide(world.rt, await world.user("bob"), str(ticket.id), Outcome.REJECTED, "not now")
    [row] = await _of(K.REJECTED, ticket)
    assert row.recipients == await _ids(world, "alice")
    assert row.payload["detail"]["reason"] == "not now"


async def test_break_glass_tells_every_approver_of_the_rule_and_the_auditors(world):
    ticket = await world.request("alice", [("payments-prod", "AdministratorAccess")])
    await break_glass(world.rt, await world.user("alice"), str(ticket.id), "payments are down")
    [row] = await _of(K.BREAK_GLASS, ticket)
    assert row.recipients == sorted([*await _ids(world, "bob", "carol", "dave"), "role:auditors"])


async def test_a_notification_rolls_back_with_its_event(world):
    ticket = await world.request("alice", [("payments-dev", "PowerUserAccess")])
    before = await Notification.all().count()
    with pytest.raises(RuntimeError):
        async with world.rt.unit_of_work() as effects:
            await transition(ticket, S.CANCELLED, clock=world.rt.clock, effects=effects, actor_id=None)
            raise RuntimeError("the caller fails after the event")
    assert await Notification.all().count() == before
    assert (await Ticket.get(id=ticket.id)).status == S.PENDING_APPROVAL


async def test_bad_input_writes_no_notification(world):
    with pytest.raises(ValidationFailed):
        await world.request("alice", [("payments-dev", "PowerUserAccess")], justification="")
    assert await Notification.all().count() == 0


async def test_a_reminder_job_that_runs_twice_makes_one_reminder(world):
    from jit.approvals import window

    ticket = await world.request("alice", [("payments-dev", "PowerUserAccess")])
    assert (await window.remind(world.rt, str(ticket.id))).result == "reminded"
    assert (await window.remind(world.rt, str(ticket.id))).result == "reminded"
    [row] = await _of(K.APPROVAL_REMINDER, ticket)
    assert row.recipients == await _ids(world, "bob", "carol")


async def test_expiring_soon_is_announced_once_per_end_time(world):
    ticket = await world.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=3600)
    await Ticket.filter(id=ticket.id).update(status=S.ACTIVE)
    rt = world.rt
    assert await notify_service.notify_expiring_soon(rt) == 0  # an hour left; the lead time is 15 minutes
    rt.clock.advance(minutes=50)
    await notify_service.notify_expiring_soon(rt)
    await notify_service.notify_expiring_soon(rt)
    [row] = await _of(K.EXPIRING_SOON, ticket)
    assert row.recipients == await _ids(world, "alice")
    # Extended: a new end, announced again before it.
    await Ticket.filter(id=ticket.id).update(end_at=ticket.end_at + timedelta(hours=1))
    rt.clock.advance(minutes=60)
    await notify_service.notify_expiring_soon(rt)
    assert len(await _of(K.EXPIRING_SOON, ticket)) == 2


async def test_drift_tells_the_admins(world):
    now = world.rt.clock.now()
    async with world.rt.unit_of_work():
        event = await record(now, None, "drift.detected", detail={
            "finding": 1, "account": "111111111111", "permission_set": "arn:x", "principal_type": "USER",
            "principal": "u-1"})
    [row] = await _of(K.DRIFT_FOUND)
    assert row.recipients == ["role:admins"] and row.dedupe_key == f"audit:{event.id}"
