"""Delegations: the only code that writes the delegation table.

A delegation changes who may decide, so every change bumps the policy version in the same
transaction and is audited with the state before and after.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from jit.approvals.models import Delegation
from jit.audit.service import record
from jit.auth.acting import require_own_credential
from jit.authz.version import bump_policy_version
from jit.directory.models import User
from jit.directory.queries import live
from jit.errors import NotAllowed, NotFound, ValidationFailed, WrongState
from jit.runtime import Runtime

MAX_REASON = 4000
# Clocks drift; a start a few seconds in the past still means "now".
START_GRACE = timedelta(seconds=60)


@dataclass
class DelegationRequest:
    delegate_id: str
    starts_at: datetime | None
    ends_at: datetime
    reason: str
    rule_ids: list[str] | None = None  # None or empty: every rule the delegator approves for


def _parse_rule_id(value: str, index: int) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValidationFailed(f"{value!r} is not a valid rule id", field=f"ruleIds[{index}]") from None


def snapshot(row: Delegation) -> dict[str, Any]:
    return {
        "id": str(row.id), "delegator": row.delegator_id, "delegate": row.delegate_id,
        "starts_at": row.starts_at.isoformat(), "ends_at": row.ends_at.isoformat(),
        "rule_ids": list(row.rule_ids or []), "reason": row.reason,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }


async def create_delegation(rt: Runtime, actor: User, req: DelegationRequest) -> Delegation:
    now = rt.clock.now()
    require_own_credential("hand your approvals to someone else", field="delegateId")
    if not req.delegate_id or req.delegate_id == actor.id:
        raise ValidationFailed("you cannot delegate to yourself", field="delegateId")
    delegate = await live(User).get_or_none(id=req.delegate_id)
    if delegate is None:
        raise ValidationFailed(f"unknown user {req.delegate_id!r}", field="delegateId")
    starts_at = req.starts_at or now
    for value, name in ((starts_at, "startsAt"), (req.ends_at, "endsAt")):
        if value.tzinfo is None:
            raise ValidationFailed("a time must include a time zone", field=name)
    if starts_at < now - START_GRACE:
        raise ValidationFailed("a delegation cannot start in the past", field="startsAt")
    if req.ends_at <= starts_at:
        raise ValidationFailed("a delegation must end after it starts", field="endsAt")
    # Counted from now, not from the start: a delegation starting years ahead is as long-lived.
    if req.ends_at - now > timedelta(days=rt.settings.delegation_max_days):
        raise ValidationFailed(f"a delegation ends at most {rt.settings.delegation_max_days} days from now "
                               "(JIT_DELEGATION_MAX_DAYS)", field="endsAt")
    if req.ends_at <= now:
        raise ValidationFailed("a delegation must end in the future", field="endsAt")
    reason = (req.reason or "").strip()
    if not reason:
        raise ValidationFailed("a delegation needs a reason", field="reason")
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"reason is longer than {MAX_REASON} characters", field="reason")
    # Only approvers in their own right delegate, so a delegate cannot pass it on.
    own = await rt.authz.approver_rule_ids(actor.id)
    if not own:
        raise NotAllowed("only an approver may delegate approvals; a delegation cannot be passed on",
                         field="delegateId")
    rule_ids = [_parse_rule_id(r, i) for i, r in enumerate(req.rule_ids or [])]
    for i, rid in enumerate(rule_ids):
        if rid not in own:
            raise ValidationFailed("you do not approve for this rule, so you cannot delegate it", field=f"ruleIds[{i}]")
    async with in_transaction():
        row = await Delegation.create(
            id=uuid.uuid4(), delegator_id=actor.id, delegate_id=delegate.id, starts_at=starts_at,
            ends_at=req.ends_at, rule_ids=sorted(set(rule_ids)), reason=reason, created_by=actor.id, created_at=now,
        )
        await bump_policy_version()
        await record(now, actor.id, "delegation.created", subject_id=row.id,
                     detail={"before": None, "after": snapshot(row)})
    return row


async def revoke_delegation(rt: Runtime, actor: User, delegation_id: str) -> Delegation:
    try:
        key = uuid.UUID(str(delegation_id))
    except ValueError:
        raise ValidationFailed(f"{delegation_id!r} is not a valid id", field="id") from None
    row = await Delegation.get_or_none(id=key)
    is_admin = await rt.authz.is_admin(actor.id)
    party = row is not None and actor.id in (row.delegator_id, row.delegate_id)
    if row is None or (not party and not await rt.authz.reads_everything(actor.id)):
        raise NotFound(f"delegation {delegation_id} not found", field="id")
    if not party and not is_admin:
        raise NotAllowed("only the delegator, the delegate or an admin may revoke a delegation", field="id")
    if row.revoked_at is not None:
        raise WrongState("this delegation is already revoked", current="REVOKED", field="id")
    now = rt.clock.now()
    before = snapshot(row)
    async with in_transaction():
        updated = await Delegation.filter(id=row.id, revoked_at=None).update(revoked_at=now, revoked_by=actor.id)
        if updated != 1:
            raise WrongState("this delegation is already revoked", current="REVOKED", field="id")
        row.revoked_at, row.revoked_by = now, actor.id
        await bump_policy_version()
        await record(now, actor.id, "delegation.revoked", subject_id=row.id,
                     detail={"before": before, "after": snapshot(row)})
    return row


async def list_delegations(rt: Runtime, actor: User, include_inactive: bool = False) -> list[Delegation]:
    """The caller's delegations, given and received; admins and auditors see all."""
    qs = Delegation.all()
    if not await rt.authz.reads_everything(actor.id):
        qs = qs.filter(Q(delegator_id=actor.id) | Q(delegate_id=actor.id))
    if not include_inactive:
        qs = qs.filter(revoked_at=None, ends_at__gt=rt.clock.now())
    return await qs.order_by("starts_at", "id")


def delegation_state(row: Delegation, now: datetime) -> str:
    if row.revoked_at is not None:
        return "REVOKED"
    if now < row.starts_at:
        return "NOT_STARTED"
    if now >= row.ends_at:
        return "EXPIRED"
    return "ACTIVE"
