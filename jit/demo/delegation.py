"""The demo's delegation: carol, a team lead, hands her approvals to erin for a week."""

from __future__ import annotations

from datetime import timedelta

from jit.approvals.delegations import DelegationRequest, create_delegation
from jit.approvals.models import Delegation
from jit.directory.models import User
from jit.runtime import Runtime


async def seed_demo_delegation(rt: Runtime) -> Delegation | None:
    carol = await User.get_or_none(user_name="carol")
    erin = await User.get_or_none(user_name="erin")
    if carol is None or erin is None:
        return None
    existing = await Delegation.filter(delegator_id=carol.id, delegate_id=erin.id, revoked_at=None).first()
    if existing is not None:
        return existing
    # Only the authorizer is used and no job is queued: an offline runtime will do.
    return await create_delegation(rt, carol, DelegationRequest(
        delegate_id=erin.id, starts_at=None, ends_at=rt.clock.now() + timedelta(days=7),
        reason="carol is on leave this week; erin covers her approvals",
    ))
