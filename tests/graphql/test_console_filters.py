"""The ticket filters the console's inbox and Tickets page use: pending extensions,
unreviewed break-glass tickets, and the created/start time windows."""

from __future__ import annotations

from datetime import timedelta

IDS = "query($f: TicketFilter) { tickets(filter: $f, first: 100) { edges { node { id } } } }"
EXTEND = """mutation($id: ID!) { requestExtension(ticketId: $id, additionalDurationSeconds: 600, reason: "more") {
  __typename ... on Extension { status } } }"""


async def _ids(api, rt, user, **flt):
    data = await api.as_(rt, user, IDS, f=flt)
    return {e["node"]["id"] for e in data["tickets"]["edges"]}


async def test_extension_pending_lists_tickets_with_a_pending_extension_for_others(api, demo):
    rt = demo.rt
    prod = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    other = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    await api.as_(rt, "bob", "mutation($id: ID!) { approveTicket(ticketId: $id) { __typename } }", id=str(prod.id))
    assert (await api.as_(rt, "alice", EXTEND, id=str(prod.id)))["requestExtension"]["status"] == "PENDING"

    assert await _ids(api, rt, "bob", extensionPending=True) == {str(prod.id)}
    # The requester's own extension is not theirs to decide.
    assert await _ids(api, rt, "alice", extensionPending=True) == set()
    assert str(other.id) in await _ids(api, rt, "bob")


async def test_break_glass_unreviewed_until_reviewed(api, demo):
    rt = demo.rt
    ticket = await demo.request("maria", [("payments-prod", "AdministratorAccess")], principal_id=demo.org.users["alice"])
    plain = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    await api.as_(rt, "maria", 'mutation($id: ID!) { breakGlassTicket(ticketId: $id, reason: "INC-1") { __typename } }',
                  id=str(ticket.id))
    assert await _ids(api, rt, "carol", breakGlassUnreviewed=True) == {str(ticket.id)}
    assert str(plain.id) in await _ids(api, rt, "carol")
    await api.as_(rt, "carol", 'mutation($id: ID!) { reviewBreakGlass(ticketId: $id, comment: "ok") { __typename } }',
                  id=str(ticket.id))
    assert await _ids(api, rt, "carol", breakGlassUnreviewed=True) == set()


async def test_created_and_start_windows(api, demo):
    rt = demo.rt
    t0 = rt.clock.now()
    first = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], justification="")
    rt.clock.advance(hours=2)
    later = await demo.request("alice", [("sandbox-alice", "ReadOnlyAccess")], justification="",
                               start_at=rt.clock.now() + timedelta(days=1))
    iso = lambda d: d.isoformat()  # noqa: E731

    assert await _ids(api, rt, "alice", createdAfter=iso(t0 + timedelta(hours=1))) == {str(later.id)}
    assert await _ids(api, rt, "alice", createdBefore=iso(t0 + timedelta(hours=1))) == {str(first.id)}
    assert await _ids(api, rt, "alice", startAfter=iso(t0 + timedelta(hours=12))) == {str(later.id)}
    assert await _ids(api, rt, "alice", startAfter=iso(t0 - timedelta(minutes=1)),
                      startBefore=iso(t0 + timedelta(hours=12))) == {str(first.id)}
    # Bounds are inclusive below and exclusive above.
    assert await _ids(api, rt, "alice", createdAfter=iso(first.created_at), createdBefore=iso(first.created_at)) == set()
    assert str(first.id) in await _ids(api, rt, "alice", createdAfter=iso(first.created_at))
