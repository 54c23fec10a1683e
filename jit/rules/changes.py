"""Change control on approval rules: a change to a rule scoped to a guarded OU
(JIT_RULE_CHANGE_APPROVAL_OUS) is stored as a proposal and takes effect only when a
second admin approves it. The only code that writes rule_change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from jit.audit.service import record
from jit.auth.acting import credential_ref, require_own_credential
from jit.config import Settings
from jit.directory.models import Account, OrganizationalUnit
from jit.errors import NotAllowed, NotFound, ValidationFailed, WrongState
from jit.rules.models import ApprovalRule, RuleChange
from jit.rules.schemas import RuleSpec
from jit.rules.service import RuleService, get_rule, ou_name_paths

if TYPE_CHECKING:  # jit.runtime builds the authorizer, which reads rules
    from jit.runtime import Runtime


async def _guarded_ou_ids(settings: Settings) -> set[str]:
    refs = set(settings.rule_change_approval_ous)
    if not refs:
        return set()
    return {ou_id for ou_id, path in await ou_name_paths() if ou_id in refs or path in refs}


async def is_guarded(settings: Settings, spec: RuleSpec | None) -> bool:
    """Does the rule reach into a guarded OU (itself, a nested OU, or an account in one)?"""
    if spec is None:
        return False
    guarded = await _guarded_ou_ids(settings)
    if not guarded:
        return False
    name_to_id = {path: ou_id for ou_id, path in await ou_name_paths()}
    for ref in spec.scope.organizational_units:
        ou_id = name_to_id.get(ref, ref)
        unit = await OrganizationalUnit.get_or_none(id=ou_id)
        path = unit.path if unit else f"/{ou_id}/"
        # The rule's OU is guarded, lies inside a guarded OU, or contains one.
        if any(f"/{g}/" in path for g in guarded):
            return True
        if await OrganizationalUnit.filter(id__in=list(guarded), path__contains=f"/{ou_id}/").exists():
            return True
    for ref in spec.scope.accounts:
        account = await Account.get_or_none(id=ref) or await Account.filter(name=ref).first()
        if account and any(f"/{g}/" in account.ou_path for g in guarded):
            return True
    return False


@dataclass
class Proposed:
    change: RuleChange


def _name(rule: ApprovalRule | None) -> str:
    if rule is None:  # pragma: no cover - a change names a spec, a rule, or both
        raise ValueError("a rule change needs a rule or a spec")
    return rule.name


def _proposed(change: RuleChange) -> RuleSpec:
    if change.after is None:  # pragma: no cover - creates and updates store what they propose
        raise WrongState(f"this {change.action} stored no rule", field="id")
    return RuleSpec.model_validate(change.after)


def _rule_id(change: RuleChange) -> uuid.UUID:
    if change.rule_id is None:  # pragma: no cover - updates and deletes name their rule
        raise WrongState(f"this {change.action} names no rule", field="id")
    return change.rule_id


class RuleChangeService:
    """Rule changes through change control. Every entry checks that a person is an admin
    (`actor_id` None is the operator), as RuleService does."""

    def __init__(self, rt: Runtime) -> None:
        self.settings = rt.settings
        self.clock = rt.clock
        self.rules = RuleService(rt)

    async def _propose(self, action: str, rule: ApprovalRule | None, spec: RuleSpec | None,
                       actor_id: str | None) -> RuleChange:
        now = self.clock.now()
        before = rule.spec.model_dump() if rule else None
        async with in_transaction():
            change = await RuleChange.create(
                id=uuid.uuid4(), action=action, rule_id=rule.id if rule else None,
                rule_name=spec.name if spec else _name(rule), before=before,
                after=spec.model_dump() if spec else None, proposed_by=actor_id, proposed_at=now,
                proposed_credential=credential_ref(),
            )
            await record(now, actor_id, "rule.change_proposed", subject_type="rule_change", subject_id=change.id,
                         detail={"change": str(change.id), "action": action, "rule": change.rule_name,
                                 "before": before, "after": change.after})
        return change

    async def create(self, spec: RuleSpec, actor_id: str | None) -> ApprovalRule | Proposed:
        await self.rules._require_admin(actor_id)
        if await is_guarded(self.settings, spec):
            await self.rules._validate(spec, None)
            return Proposed(await self._propose("create", None, spec, actor_id))
        return await self.rules.create(spec, actor_id)

    async def update(self, rule_id: uuid.UUID, spec: RuleSpec, actor_id: str | None) -> ApprovalRule | Proposed:
        await self.rules._require_admin(actor_id)
        rule = await get_rule(rule_id)
        if await is_guarded(self.settings, rule.spec) or await is_guarded(self.settings, spec):
            await self.rules._validate(spec, rule_id)
            return Proposed(await self._propose("update", rule, spec, actor_id))
        return await self.rules.update(rule_id, spec, actor_id)

    async def delete(self, rule_id: uuid.UUID, actor_id: str | None) -> Proposed | None:
        await self.rules._require_admin(actor_id)
        rule = await get_rule(rule_id)
        if await is_guarded(self.settings, rule.spec):
            return Proposed(await self._propose("delete", rule, None, actor_id))
        await self.rules.delete(rule_id, actor_id)
        return None

    async def decide(self, change_id: str, actor_id: str, approve: bool, comment: str = "") -> RuleChange:
        await self.rules._require_admin(actor_id)
        try:
            key = uuid.UUID(str(change_id))
        except ValueError:
            raise ValidationFailed(f"{change_id!r} is not a valid id", field="id") from None
        change = await RuleChange.get_or_none(id=key)
        if change is None:
            raise NotFound(f"rule change {change_id} not found", field="id")
        if change.status != "PENDING":
            raise WrongState(f"this change is {change.status}", current=change.status, field="id")
        credential = require_own_credential("decide a rule change", field="id")
        if approve and change.proposed_by == actor_id:
            raise NotAllowed("a second admin must approve this change, not the one who proposed it", field="id")
        now = self.clock.now()
        async with in_transaction():
            claimed = await RuleChange.filter(id=change.id, status="PENDING").update(
                status="APPLIED" if approve else "REJECTED", decided_by=actor_id, decided_at=now, comment=comment,
                decided_credential=credential,
            )
            if claimed != 1:
                raise WrongState("this change was decided by someone else", field="id")
            if approve:
                # The rule may have changed since; re-validate against what is there now.
                if change.action == "create":
                    await self.rules.create(_proposed(change), actor_id)
                elif change.action == "update":
                    await self.rules.update(_rule_id(change), _proposed(change), actor_id)
                else:
                    await self.rules.delete(_rule_id(change), actor_id)
            await record(now, actor_id, "rule.change_approved" if approve else "rule.change_rejected",
                         subject_type="rule_change", subject_id=change.id, detail={
                "change": str(change.id), "action": change.action, "rule": change.rule_name,
                "proposed_by": change.proposed_by, "comment": comment,
            })
        return await RuleChange.get(id=change.id)


async def pending_changes() -> list[RuleChange]:
    return await RuleChange.filter(status="PENDING").order_by("proposed_at")
