"""The hash chain: every event is chained, and verify names the first event that was
edited, removed or put back — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from itertools import pairwise

from tortoise import connections

from jit.audit.models import AuditChain, AuditEvent
from jit.audit.retention import prune
from jit.audit.service import record
from jit.audit.verify import verify_chain


async def _events(rt, n: int) -> list[AuditEvent]:
    out = []
    for i in range(n):
        rt.clock.advance(minutes=1)
        out.append(await record(
            rt.clock.now(), f"user-{i}", "rule.updated", subject_id=f"rule-{i}",
            before={"required": i}, after={"required": i + 1, "at": rt.clock.now()}, detail={"n": i, "ü": "ß"},
        ))
    return out


async def _sql(database_url: str, sql: str) -> None:
    await connections.get("default").execute_script(sql)


async def test_events_form_a_chain_that_verifies(runtime):
    events = await _events(runtime, 5)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in pairwise(events))
    ticket = uuid.uuid4()
    transition = await record(runtime.clock.now(), None, "ticket.active", ticket_id=ticket,
                              from_status="GRANTING", to_status="ACTIVE")
    assert (transition.subject_type, transition.subject_id) == ("ticket", str(ticket))
    assert (transition.before, transition.after) == ({"status": "GRANTING"}, {"status": "ACTIVE"})
    result = await verify_chain()
    assert result.ok, result.broken
    assert result.checked == 6


async def test_an_edited_row_is_named(runtime, database_url):
    events = await _events(runtime, 6)
    target = events[3]
    await _sql(database_url, f"UPDATE audit_event SET actor_id = 'mallory' WHERE id = {target.id}")
    result = await verify_chain()
    assert not result.ok
    assert (result.broken.event_id, result.broken.seq) == (target.id, target.seq)
    assert "edited" in result.broken.reason
    assert result.checked == 3


async def test_an_edited_json_field_is_named(runtime, database_url):
    events = await _events(runtime, 4)
    target = events[1]
    await AuditEvent.filter(id=target.id).update(after={"required": 99})
    result = await verify_chain()
    assert (result.broken.event_id, result.broken.seq) == (target.id, target.seq)


async def test_a_deleted_row_in_the_middle_is_detected(runtime, database_url):
    events = await _events(runtime, 6)
    await _sql(database_url, f"DELETE FROM audit_event WHERE id = {events[2].id}")
    result = await verify_chain()
    assert (result.broken.event_id, result.broken.seq) == (events[3].id, events[3].seq)
    assert "seq 3 missing" in result.broken.reason


async def test_rows_deleted_from_the_end_are_detected(runtime, database_url):
    events = await _events(runtime, 4)
    await _sql(database_url, f"DELETE FROM audit_event WHERE id = {events[-1].id}")
    result = await verify_chain()
    assert not result.ok
    assert result.broken.event_id is None and result.broken.seq == 3
    assert "deleted from the end" in result.broken.reason


async def test_a_rehashed_edit_breaks_the_next_link(runtime, database_url):
    """An editor who recomputes the edited row's hash still breaks its successor's link."""
    from jit.audit.chain import event_hash, fields_of

    events = await _events(runtime, 4)
    row = await AuditEvent.get(id=events[1].id)
    row.actor_id = "mallory"
    await AuditEvent.filter(id=row.id).update(actor_id="mallory", hash=event_hash(fields_of(row)))
    result = await verify_chain()
    assert (result.broken.event_id, result.broken.seq) == (events[2].id, events[2].seq)
    assert "prev_hash" in result.broken.reason


async def test_prune_keeps_the_rest_verifiable(runtime, database_url):
    events = await _events(runtime, 8)
    cutoff = events[4].at  # events 1..4 are older
    result = await prune(cutoff, runtime.clock, actor_id="admin")
    assert (result.count, result.checkpoint_seq, result.checkpoint_hash) == (4, 4, events[3].hash)
    assert await AuditEvent.filter(seq__lte=4).count() == 0
    pruned_event = await AuditEvent.filter(action="audit.pruned").get()
    assert pruned_event.seq == 9 and pruned_event.detail["deleted"] == 4
    verified = await verify_chain()
    assert verified.ok, verified.broken
    assert (verified.first_seq, verified.checked) == (4, 5)
    # The checkpoint does not make later edits invisible.
    await _sql(database_url, f"UPDATE audit_event SET detail = '{{}}' WHERE id = {events[6].id}")
    broken = (await verify_chain()).broken
    assert (broken.event_id, broken.seq) == (events[6].id, 7)


async def test_prune_refuses_to_launder_an_edit(runtime, database_url):
    from jit.errors import ValidationFailed

    events = await _events(runtime, 5)
    await _sql(database_url, f"UPDATE audit_event SET action = 'x' WHERE id = {events[1].id}")
    try:
        await prune(events[3].at, runtime.clock)
    except ValidationFailed as exc:
        assert f"event {events[1].id} (seq 2)" in exc.message
    else:
        raise AssertionError("prune deleted an edited event")
    assert await AuditEvent.all().count() == 5
    assert (await AuditChain.get(id=1)).checkpoint_seq == 0


async def test_the_first_event_pruned_away_cannot_come_back(runtime, database_url):
    events = await _events(runtime, 4)
    await prune(events[2].at, runtime.clock)
    head = await AuditChain.get(id=1)
    row = events[0]
    await AuditEvent.create(**{f: getattr(row, f) for f in (
        "seq", "at", "actor_id", "action", "subject_type", "subject_id", "detail", "before", "after", "prev_hash", "hash")})
    result = await verify_chain()
    assert result.broken is not None and result.broken.seq == 1
    assert head.checkpoint_seq == 2


async def test_concurrent_writers_do_not_fork_the_chain(runtime, database_url):
    """Writers in separate transactions (separate connections on PostgreSQL) take turns
    at the chain head."""
    from tortoise.transactions import in_transaction

    async def writer(i: int) -> None:
        for j in range(5):
            async with in_transaction():
                await record(runtime.clock.now(), f"w{i}", "ticket.requested", ticket_id=uuid.uuid4(),
                             detail={"writer": i, "n": j})
                await asyncio.sleep(0)

    await asyncio.gather(*(writer(i) for i in range(8)))
    assert await AuditEvent.all().count() == 40
    seqs = sorted(await AuditEvent.all().values_list("seq", flat=True))
    assert seqs == list(range(1, 41))
    result = await verify_chain()
    assert result.ok, result.broken
