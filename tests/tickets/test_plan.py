"""Revokes planned by deadline (jit.tickets.plan): started early enough that AWS settles
the delete by the end time, earlier still in a burst, and how early recorded."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from jit.audit.models import AuditEvent
from jit.aws.budget import AwsBudget, BudgetLimits
from jit.aws.clients import AwsClients
from jit.tickets import plan, stack
from jit.tickets.models import Ticket
from jit.tickets.models import TicketStatus as S
from tests.support.fault_proxy import FaultProxy

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def set_clock(world, at: datetime) -> None:
    world.rt.clock.advance(seconds=(at - world.rt.clock.now()).total_seconds())


async def three_granted_ending_together(world) -> tuple[list[Ticket], datetime]:
    """Three ACTIVE tickets (alice, erin, maria) ending at the same second, the clock a
    minute before that end."""
    tickets = []
    for user in ["alice", "erin", "maria"]:
        t = await world.request(user, [("sandbox-shared", "ReadOnlyAccess")], duration=900, justification="x")
        assert (await stack.grant(world.rt, str(t.id))).result == "granted"
        tickets.append(t)
    end = max(t.end_at for t in tickets)
    await Ticket.filter(id__in=[t.id for t in tickets]).update(end_at=end)
    set_clock(world, end - timedelta(seconds=60))
    return tickets, end


def test_a_burst_is_started_earlier_in_deadline_order():
    ends = [(f"t{i}", T0, 1) for i in range(10)] + [("later", T0 + timedelta(seconds=60), 1)]
    planned = {p.ticket_id: p.start_at for p in plan.backward_plan(ends, lead=4.0, per_second=2.0)}
    # Alone at its end, the later ticket starts the lead before it.
    assert planned["later"] == T0 + timedelta(seconds=56)
    starts = sorted(v for k, v in planned.items() if k != "later")
    # Ten ending together: the last starts the lead before, each other half a second
    # (one revoke at 2 a second) before the next: none late, the first 8.5 s early.
    assert starts[-1] == T0 - timedelta(seconds=4)
    assert starts[0] == T0 - timedelta(seconds=8.5)
    assert all(b - a == timedelta(seconds=0.5) for a, b in zip(starts, starts[1:], strict=False))


def test_a_ticket_with_more_deletes_takes_more_of_the_budget():
    ends = [("big", T0, 4), ("next", T0 + timedelta(seconds=1), 1)]
    planned = {p.ticket_id: p.start_at for p in plan.backward_plan(ends, lead=2.0, per_second=2.0)}
    assert planned["next"] == T0 - timedelta(seconds=1)
    assert planned["big"] == T0 - timedelta(seconds=3)  # its four deletes need 2 s before "next"


async def test_the_revoke_starts_the_lead_before_the_end_and_records_how_early(demo):
    ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=600, justification="x")
    assert (await stack.grant(demo.rt, str(ticket.id))).result == "granted"
    ticket = await Ticket.get(id=ticket.id)
    lead = plan.revoke_lead(demo.rt)
    assert lead >= demo.rt.settings.revoke_lead_seconds
    jobs = {j.job_id: j for j in await demo.rt.redis.queued_jobs()}
    assert plan.revoke_job_id(str(ticket.id), ticket.end_at - timedelta(seconds=lead)) in jobs

    set_clock(demo, ticket.end_at - timedelta(seconds=lead + 1))
    assert (await stack.revoke(demo.rt, str(ticket.id))).result == "early"
    set_clock(demo, ticket.end_at - timedelta(seconds=lead))
    assert (await stack.revoke(demo.rt, str(ticket.id))).result == "revoked"
    ticket = await Ticket.get(id=ticket.id)
    assert ticket.status == S.ENDED and ticket.revoke_started_early == pytest.approx(lead)
    event = await AuditEvent.get(ticket_id=ticket.id, action="ticket.revoking")
    assert event.detail["started_early_seconds"] == pytest.approx(lead)
    assert demo.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []


async def test_a_burst_of_ends_moves_revokes_earlier_and_an_extension_plans_afresh(demo):
    # A budget of 2 calls a second: about one revoke a second.
    demo.rt.aws.budget = AwsBudget(demo.rt.redis, BudgetLimits(rate=2.0, max_outstanding=4))
    tickets, end = await three_granted_ending_together(demo)

    assert await plan.plan_revokes(demo.rt) == 2
    starts = sorted([(await Ticket.get(id=t.id)).revoke_at for t in tickets], key=lambda v: v or end)
    lead, gap = plan.revoke_lead(demo.rt), 1 / plan.revokes_per_second(demo.rt)
    assert starts[2] is None  # the last to go needs no more than the lead
    assert starts[0] < starts[1] < end - timedelta(seconds=lead)
    assert (end - timedelta(seconds=lead) - starts[0]).total_seconds() == pytest.approx(2 * gap, abs=0.01)
    jobs = {j.job_id for j in await demo.rt.redis.queued_jobs()}
    moved = [t for t in tickets if (await Ticket.get(id=t.id)).revoke_at is not None]
    for t in moved:
        assert plan.revoke_job_id(str(t.id), (await Ticket.get(id=t.id)).revoke_at) in jobs
    # Planning again moves nothing.
    assert await plan.plan_revokes(demo.rt) == 0

    # The first planned revoke runs at its planned start, before the lead.
    first = [t for t in moved if (await Ticket.get(id=t.id)).revoke_at == starts[0]][0]
    set_clock(demo, starts[0])
    assert (await stack.revoke(demo.rt, str(first.id))).result == "revoked"
    early = (await Ticket.get(id=first.id)).revoke_started_early
    assert early == pytest.approx((end - starts[0]).total_seconds(), abs=0.001)

    # An extension of a planned ticket sets its plan afresh from the new end.
    second = [t for t in moved if t.id != first.id][0]
    from jit.tickets.extensions import apply_extension
    from jit.tickets.models import Extension, ExtensionStatus

    now = demo.rt.clock.now()
    ext = await Extension.create(ticket_id=second.id, requester_id=second.requester_id, additional_seconds=600,
                                 reason="x", status=ExtensionStatus.PENDING, expires_at=end,
                                 previous_end_at=end, created_at=now)
    async with demo.rt.unit_of_work() as effects:
        await apply_extension(demo.rt, effects, ext, None, "test")
    extended = await Ticket.get(id=second.id)
    assert extended.revoke_at is None and plan.revoke_starts(demo.rt, extended) == extended.end_at - timedelta(
        seconds=lead)


async def test_a_revoke_makes_five_aws_calls_a_lifecycle(demo, moto_url):
    """One look before the create, the create, one status poll; the delete and one poll.
    (A revoke does not look before deleting what the stack says it made.)"""
    proxy = FaultProxy(moto_url).start()
    try:
        settings = demo.rt.settings.model_copy(update={"aws_endpoint_url": proxy.url})
        demo.rt.settings, demo.rt.aws = settings, AwsClients(settings)
        ticket = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=600, justification="x")
        proxy.faults.seen.clear()
        assert (await stack.grant(demo.rt, str(ticket.id))).result == "granted"
        demo.rt.clock.advance(seconds=601)
        assert (await stack.revoke(demo.rt, str(ticket.id))).result == "revoked"
        sso = [op for op in proxy.faults.seen if op and op[0].isupper() and "Assignment" in op]
        assert sso == ["ListAccountAssignments", "CreateAccountAssignment", "DescribeAccountAssignmentCreationStatus",
                       "DeleteAccountAssignment", "DescribeAccountAssignmentDeletionStatus"]
    finally:
        await demo.rt.aws.close()
        proxy.stop()


async def test_a_plan_made_pessimistically_moves_later_again_when_the_budget_allows(demo):
    demo.rt.aws.budget = AwsBudget(demo.rt.redis, BudgetLimits(rate=1.0, max_outstanding=4))
    tickets, end = await three_granted_ending_together(demo)
    assert await plan.plan_revokes(demo.rt) == 2
    # Deletes measured faster than feared, a budget with room: the lead alone will do.
    demo.rt.aws.budget = AwsBudget(demo.rt.redis, BudgetLimits(rate=20.0, max_outstanding=15))
    for _ in range(10):
        demo.rt.settle_times().delete.saw_held(0.1)
    assert await plan.plan_revokes(demo.rt) == 2
    assert [(await Ticket.get(id=t.id)).revoke_at for t in tickets] == [None, None, None]
    ticket = await Ticket.get(id=tickets[0].id)
    # The job queued for the earlier plan finds it not yet due, and comes back later.
    set_clock(demo, end - timedelta(seconds=30))
    assert (await stack.revoke(demo.rt, str(ticket.id))).result == "early"


async def test_while_revokes_queue_for_the_budget_the_plan_uses_the_rate_they_settle_at(demo):
    """The budget's rate is an upper bound: grants hold write slots too, and AWS settles at
    its own pace. With more deletes pending than slots for the whole window, the plan takes
    the rate deletes settled at, so the revokes still to come start earlier."""
    from jit.tickets.models import EntryOrigin, EntryStatus, StackEntry, UnwindStatus

    demo.rt.aws.budget = AwsBudget(demo.rt.redis, BudgetLimits(rate=20.0, max_outstanding=2))
    tickets, end = await three_granted_ending_together(demo)
    budget = plan.revokes_per_second(demo.rt)
    await Ticket.filter(id__in=[t.id for t in tickets[:2]]).update(status=S.REVOKING)
    assert await plan.pending_deletes() == 2
    # Forty deletes settled in the window (two a second), on the third ticket's stack.
    now = demo.rt.clock.now()
    for position in range(1, 41):
        await StackEntry.create(ticket_id=tickets[2].id, position=position, account_id="111111111111",
                                permission_set_arn=f"arn:x:{position}", principal_id="p", status=EntryStatus.SUCCEEDED,
                                origin=EntryOrigin.CREATED, unwind_status=UnwindStatus.DELETED,
                                created_at=now, updated_at=now)
    assert await plan.observed_revokes_per_second(demo.rt) is None  # one look is not a queue
    demo.rt.clock.advance(seconds=8)
    assert await plan.observed_revokes_per_second(demo.rt) is None  # nor 8 seconds of them
    demo.rt.clock.advance(seconds=8)
    assert await plan.observed_revokes_per_second(demo.rt) == pytest.approx(2.0)
    assert plan.OBSERVED_FLOOR * budget < 2.0 < budget
    assert await plan.planning_rate(demo.rt) == pytest.approx(2.0)
    # Nothing settling at all (AWS failing every delete) still plans at a share of the
    # budget, rather than starting every revoke of the horizon at once.
    await StackEntry.filter(ticket_id=tickets[2].id, position__gte=1).delete()
    assert await plan.observed_revokes_per_second(demo.rt) == 0
    assert await plan.planning_rate(demo.rt) == pytest.approx(plan.OBSERVED_FLOOR * budget)

    # One look with fewer deletes pending than slots: the budget had room, its rate stands.
    await StackEntry.filter(ticket_id=tickets[0].id, unwind_status=None).update(unwind_status=UnwindStatus.DELETED)
    demo.rt.clock.advance(seconds=2)
    assert await plan.observed_revokes_per_second(demo.rt) is None
    assert await plan.planning_rate(demo.rt) == pytest.approx(budget)


async def test_the_first_creates_teach_the_revokes_of_a_burst_how_long_a_delete_holds_its_slot(demo, moto_url):
    """Before any delete was seen, a burst is planned with what the process's first creates
    measured (they look at the median as revokes do), not with the pessimistic default
    that starts it many seconds early."""
    from jit.aws.assignments import EXPLORE, AssignmentKey, Assignments, SettleTimes
    from jit.directory.models import Account, PermissionSet, User

    proxy = FaultProxy(moto_url).start()
    try:
        proxy.quota(rate=50, burst=50, max_outstanding=15, settle=(0.3, 0.5))
        settings = demo.rt.settings.model_copy(update={"aws_endpoint_url": proxy.url})
        demo.rt.settings, demo.rt.aws = settings, AwsClients(settings)
        demo.rt._settle_times = times = SettleTimes.starting_at(1.0, 0.05)
        assert plan.revokes_per_second(demo.rt) == pytest.approx(plan.PLAN_MARGIN * 14 / 3.2, rel=0.01)  # pessimistic
        aws = Assignments(demo.rt.aws, times, poll_timeout=30)
        ic = await demo.rt.identity_center()
        keys = [AssignmentKey(ic.instance_arn, a.id, p.arn, u.id)
                for a in await Account.all() for p in await PermissionSet.all() for u in await User.all()]
        async def grant(key: AssignmentKey) -> str:
            created = await aws.create(key)
            return (await aws.wait_created(ic.instance_arn, created.request_id)).status

        assert await asyncio.gather(*(grant(k) for k in keys[:EXPLORE])) == ["SUCCEEDED"] * EXPLORE
        assert times.create.median_seen == EXPLORE and times.create.held_count == EXPLORE
        assert 0.3 < times.create.held < 1.2
        proxy.reset_stats()
        extra = await aws.create(keys[EXPLORE])
        await aws.wait_created(ic.instance_arn, extra.request_id)
        assert times.create.median_seen == EXPLORE  # one look now, at the high estimate
        assert proxy.stats()["calls"].get("DescribeAccountAssignmentCreationStatus") == 1
        # No delete seen yet: the plan holds a slot for what the creates held, not 3.2 s.
        assert plan.revokes_per_second(demo.rt) == pytest.approx(
            plan.PLAN_MARGIN * min(demo.rt.budget.limits.rate / 2.5, 14 / (times.create.held + 0.1)), rel=0.01)
        deleted = await aws.delete(keys[0])
        await aws.wait_deleted(ic.instance_arn, deleted.request_id)
        assert times.delete.median_seen == 1 and times.delete.median < 1.0  # started from the creates'
    finally:
        await demo.rt.aws.close()
        proxy.stop()
