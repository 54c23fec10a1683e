"""The demo's delegation: carol, a team lead, hands her approvals to erin for a week."""

from __future__ import annotations

from datetime import timedelta

from jit.approvals.delegations import DelegationRequest, create_delegation
from jit.approvals.models import Delegation
from jit.authz.service import Authorizer
from jit.aws.clients import AwsClients
from jit.clock import Clock
from jit.config import Settings
from jit.directory.models import User
from jit.runtime import Runtime


async def seed_demo_delegation(settings: Settings, clock: Clock) -> Delegation | None:
    carol = await User.get_or_none(user_name="carol")
    erin = await User.get_or_none(user_name="erin")
    if carol is None or erin is None:
        return None
    existing = await Delegation.filter(delegator_id=carol.id, delegate_id=erin.id, revoked_at=None).first()
    if existing is not None:
        return existing
    # Only the authorizer is used; no job is queued, so no Redis is needed here.
    rt = Runtime(settings=settings, clock=clock, aws=AwsClients(settings), authz=Authorizer(settings), redis=None)  # type: ignore[arg-type]
    return await create_delegation(rt, carol, DelegationRequest(
        delegate_id=erin.id, starts_at=None, ends_at=clock.now() + timedelta(days=7),
        reason="carol is on leave this week; erin covers her approvals",
    ))
