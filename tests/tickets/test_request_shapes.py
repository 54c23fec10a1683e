"""On-behalf requests, permission set groups and OUs in a request."""

from __future__ import annotations

import pytest

from jit.approvals.models import Outcome
from jit.approvals.service import decide
from jit.audit.models import AuditEvent
from jit.errors import NotAllowed, ValidationFailed
from jit.tickets import service as tickets
from jit.tickets.models import Target, Ticket
from jit.tickets.models import TicketStatus as S


async def test_a_manager_requests_for_an_engineer_who_sees_cancels_and_is_self(demo):
    alice = await demo.user("alice")
    ticket = await demo.request("maria", [("payments-prod", "ReadOnlyAccess")], principal_id=alice.id)
    assert ticket.principal_id == alice.id and ticket.requester_id == (await demo.user("maria")).id
    event = await AuditEvent.get(ticket_id=ticket.id, action="ticket.requested")
    assert event.detail["on_behalf_of"] == "alice"
    # Both count as self: neither may approve.
    with pytest.raises(NotAllowed):
        await decide(demo.rt, alice, str(ticket.id), Outcome.APPROVED)
    assert (await tickets.get_readable_ticket(demo.rt, alice.id, str(ticket.id))).id == ticket.id
    await tickets.cancel_ticket(demo.rt, alice, str(ticket.id), "I do not need it")
    assert (await Ticket.get(id=ticket.id)).status == S.CANCELLED


async def test_on_behalf_outside_the_rule_is_refused_and_writes_nothing(demo):
    before = await Ticket.all().count(), await AuditEvent.all().count()
    with pytest.raises(NotAllowed) as info:  # an engineer may not request for another engineer
        await demo.request("erin", [("payments-prod", "ReadOnlyAccess")], principal_id=(await demo.user("alice")).id)
    assert info.value.field == "targets[0]"
    with pytest.raises(NotAllowed):  # a manager may not request for an approver
        await demo.request("maria", [("payments-prod", "ReadOnlyAccess")], principal_id=(await demo.user("bob")).id)
    assert (await Ticket.all().count(), await AuditEvent.all().count()) == before


async def test_a_permission_set_group_expands_to_one_assignment_each(demo):
    from jit.tickets import stack

    req = tickets.TicketRequest(
        targets=[tickets.TargetRequest(demo.account("payments-dev"), None, permission_set_group="DBA")],
        duration_seconds=3600, justification="schema change",
    )
    ticket = await tickets.request_ticket(demo.rt, await demo.user("alice"), req)
    targets = await Target.filter(ticket_id=ticket.id).order_by("id")
    assert [(t.permission_set_arn, t.permission_set_group) for t in targets] == [
        (demo.ps("ReadOnlyAccess"), "DBA"), (demo.ps("DatabaseAdmin"), "DBA"),
    ]
    await decide(demo.rt, await demo.user("bob"), str(ticket.id), Outcome.APPROVED)
    assert (await stack.grant(demo.rt, str(ticket.id))).result == "granted"
    assert len(demo.assignments("payments-dev", "ReadOnlyAccess", "alice")) == 1
    assert len(demo.assignments("payments-dev", "DatabaseAdmin", "alice")) == 1


async def test_an_ou_expands_to_its_accounts_at_request_time(demo):
    req = tickets.TicketRequest(
        targets=[tickets.TargetRequest(None, "ReadOnlyAccess", organizational_unit="/Workloads/Prod")],
        duration_seconds=3600, justification="audit prep",
    )
    ticket = await tickets.request_ticket(demo.rt, await demo.user("alice"), req)
    assert await Target.filter(ticket_id=ticket.id).count() == 5


async def test_an_ou_beyond_the_limit_is_a_typed_error_and_writes_nothing(demo):
    req = tickets.TicketRequest(
        targets=[tickets.TargetRequest(None, "ReadOnlyAccess", organizational_unit="/Workloads")],
        duration_seconds=3600, justification="everything",
    )
    before = await Ticket.all().count(), await AuditEvent.all().count()
    with pytest.raises(ValidationFailed) as info:
        await tickets.request_ticket(demo.rt, await demo.user("alice"), req)
    assert info.value.field == "targets[0].organizationalUnitId"
    assert (await Ticket.all().count(), await AuditEvent.all().count()) == before


async def test_unknown_group_and_ou_are_typed_errors(demo):
    alice = await demo.user("alice")
    for target, field in (
        (tickets.TargetRequest(demo.account("payments-dev"), None, permission_set_group="Nope"),
         "targets[0].permissionSetGroup"),
        (tickets.TargetRequest(None, "ReadOnlyAccess", organizational_unit="/Nowhere"),
         "targets[0].organizationalUnitId"),
        (tickets.TargetRequest(demo.account("payments-dev"), "ReadOnlyAccess", permission_set_group="DBA"),
         "targets[0]"),
    ):
        with pytest.raises(ValidationFailed) as info:
            await tickets.request_ticket(demo.rt, alice, tickets.TicketRequest([target], 3600, "x"))
        assert info.value.field == field
    assert await Ticket.all().count() == 0
