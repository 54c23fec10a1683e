"""AWS behaviour moto cannot produce, through a fault-injecting proxy in front of moto."""

from __future__ import annotations

import pytest

from jit.aws.clients import AwsClients
from jit.tickets import stack
from jit.tickets.models import EntryStatus, StackEntry, Ticket, UnwindStatus
from jit.tickets.models import TicketStatus as S
from tests.support.fault_proxy import FaultProxy


@pytest.fixture(scope="session")
def proxy(moto_url):
    p = FaultProxy(moto_url).start()
    yield p
    p.stop()


@pytest.fixture
def faulty(demo, proxy):
    """The world, with JIT's AWS calls going through the proxy."""
    proxy.reset()
    settings = demo.rt.settings.model_copy(update={"aws_endpoint_url": proxy.url})
    demo.rt.settings = settings
    demo.rt.aws = AwsClients(settings)
    return demo


async def test_failed_assignment_fails_the_ticket_and_unwinds_what_was_made(faulty, proxy):
    ticket = await faulty.request(
        "alice", [("sandbox-alice", "ReadOnlyAccess"), ("sandbox-shared", "ReadOnlyAccess")], duration=60,
        justification="",
    )
    proxy.faults.fail_accounts = {faulty.account("sandbox-shared")}
    outcome = await stack.grant(faulty.rt, str(ticket.id))
    assert outcome.result == "failed"
    ticket = await Ticket.get(id=ticket.id)
    assert ticket.status == S.FAILED and "Not supported account" in ticket.failure_reason
    first = await StackEntry.get(ticket_id=ticket.id, position=0)
    second = await StackEntry.get(ticket_id=ticket.id, position=1)
    assert first.status == EntryStatus.SUCCEEDED and first.unwind_status == UnwindStatus.DELETED
    assert second.status == EntryStatus.FAILED and second.unwind_status == UnwindStatus.SKIPPED
    assert faulty.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []
    assert faulty.assignments("sandbox-shared", "ReadOnlyAccess", "alice") == []


async def test_in_progress_is_not_success(faulty, proxy):
    ticket = await faulty.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=60, justification="")
    proxy.faults.in_progress_polls = 3
    assert (await stack.grant(faulty.rt, str(ticket.id))).result == "granted"
    assert proxy.faults.seen.count("DescribeAccountAssignmentCreationStatus") == 4
    assert proxy.faults.in_progress_polls == 0


async def test_throttling_is_retried(faulty, proxy):
    ticket = await faulty.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=60, justification="")
    proxy.faults.throttle = {"CreateAccountAssignment": 3, "DeleteAccountAssignment": 2}
    assert (await stack.grant(faulty.rt, str(ticket.id))).result == "granted"
    assert proxy.faults.seen.count("CreateAccountAssignment") == 4
    assert len(faulty.assignments("sandbox-alice", "ReadOnlyAccess", "alice")) == 1
    faulty.rt.clock.advance(seconds=61)
    assert (await stack.revoke(faulty.rt, str(ticket.id))).result == "revoked"
    assert faulty.assignments("sandbox-alice", "ReadOnlyAccess", "alice") == []


async def test_throttling_beyond_botocores_quick_retries_is_retried_by_jit(faulty, proxy):
    """botocore makes three attempts on the grant and revoke paths; the capped outer loop
    owns the rest, the look-up before a create included."""
    ticket = await faulty.request("alice", [("sandbox-alice", "ReadOnlyAccess")], duration=60, justification="")
    proxy.faults.throttle = {"ListAccountAssignments": 4, "CreateAccountAssignment": 5}
    assert (await stack.grant(faulty.rt, str(ticket.id))).result == "granted"
    assert proxy.faults.seen.count("ListAccountAssignments") >= 5
    assert proxy.faults.seen.count("CreateAccountAssignment") == 6
    assert len(faulty.assignments("sandbox-alice", "ReadOnlyAccess", "alice")) == 1
