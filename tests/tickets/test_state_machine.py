"""Table-driven: every (from, to) pair is either allowed or cannot be written."""

from __future__ import annotations

import itertools
import uuid

import pytest

from jit.audit.models import AuditEvent
from jit.directory.models import User
from jit.errors import WrongState
from jit.runtime import Effects
from jit.tickets.models import Ticket
from jit.tickets.models import TicketStatus as S
from jit.tickets.state import TRANSITIONS, transition

ALLOWED = {
    (S.PENDING_APPROVAL, S.SCHEDULED), (S.PENDING_APPROVAL, S.REJECTED), (S.PENDING_APPROVAL, S.CANCELLED),
    (S.PENDING_APPROVAL, S.EXPIRED), (S.SCHEDULED, S.GRANTING), (S.SCHEDULED, S.CANCELLED),
    (S.GRANTING, S.ACTIVE), (S.GRANTING, S.FAILED), (S.ACTIVE, S.REVOKING), (S.REVOKING, S.ENDED),
}


def test_the_table_is_the_documented_machine():
    assert {(a, b) for a, nexts in TRANSITIONS.items() for b in nexts} == ALLOWED


class _World:
    def __init__(self, rt):
        self.rt = rt


@pytest.fixture
async def demo(runtime):
    """Only a user is needed here; the full demo organization would be slow to seed 100 times."""
    now = runtime.clock.now()
    await User.create(id="u-alice", user_name="alice", synced_at=now)
    return _World(runtime)


async def _ticket(demo, status: S) -> Ticket:
    user = await User.get(user_name="alice")
    now = demo.rt.clock.now()
    return await Ticket.create(
        id=uuid.uuid4(), requester=user, principal=user, status=status, start_at=now, end_at=now,
        created_at=now, updated_at=now,
    )


@pytest.mark.parametrize("current,target", list(itertools.product(S, S)), ids=lambda s: s.value)
async def test_transition(demo, current, target):
    ticket = await _ticket(demo, current)
    effects = Effects()
    if (current, target) in ALLOWED:
        await transition(ticket, target, clock=demo.rt.clock, effects=effects, actor_id=None)
        stored = await Ticket.get(id=ticket.id)
        assert stored.status == target and stored.version == 1
        [event] = effects.events
        assert (event.previous_status, event.status) == (current.value, target.value)
        assert await AuditEvent.filter(ticket_id=ticket.id, from_status=current.value, to_status=target.value).exists()
    else:
        with pytest.raises(WrongState):
            await transition(ticket, target, clock=demo.rt.clock, effects=effects, actor_id=None)
        stored = await Ticket.get(id=ticket.id)
        assert stored.status == current and stored.version == 0
        assert effects.events == []
        assert not await AuditEvent.filter(ticket_id=ticket.id).exists()


async def test_a_stale_copy_cannot_overwrite_a_newer_state(demo):
    ticket = await _ticket(demo, S.PENDING_APPROVAL)
    stale = await Ticket.get(id=ticket.id)
    await transition(ticket, S.CANCELLED, clock=demo.rt.clock, effects=Effects(), actor_id=None)
    with pytest.raises(WrongState) as err:
        await transition(stale, S.SCHEDULED, clock=demo.rt.clock, effects=Effects(), actor_id=None)
    assert err.value.current == "CANCELLED"
    assert (await Ticket.get(id=ticket.id)).status == S.CANCELLED
