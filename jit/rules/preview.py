"""Who may request a target and who approves it, rule by rule: the admin's approval preview."""

from __future__ import annotations

from dataclasses import dataclass

from jit import errors
from jit.directory import queries as directory
from jit.rules.models import PermissionSetGroup, allows_alone
from jit.runtime import Runtime


@dataclass
class PreviewStep:
    name: str
    required: int
    approver_ids: list[str]


@dataclass
class PreviewRule:
    name: str
    auto_approved: bool
    max_duration_seconds: int
    requester_ids: list[str]
    steps: list[PreviewStep]
    via_permission_set_groups: list[str]  # the rule's groups holding the permission set (empty: named itself)
    requestable_alone: bool


@dataclass
class Preview:
    account_id: str
    permission_set_arn: str
    rules: list[PreviewRule]


async def approval_preview(rt: Runtime, actor_id: str, account: str, permission_set: str) -> Preview:
    """The rules covering a live account (id or name) and permission set (ARN or name), strictest
    first, with who may request under each and who approves each step. Admins only."""
    await rt.authz.require_admin(actor_id, "preview approval rules")
    found = await directory.live_account(account)
    if found is None:
        raise errors.NotFound(f"no live account {account!r}", field="accountId")
    ps = await directory.live_permission_set(permission_set)
    if ps is None:
        raise errors.NotFound(f"no live permission set {permission_set!r}", field="permissionSet")
    bundles = dict(await PermissionSetGroup.all().values_list("name", "permission_sets"))
    rules = []
    for rule, requesters, steps in await rt.authz.preview(found, ps.arn):
        via = [] if ps.name in rule.permission_sets else [
            g for g in rule.permission_set_groups or [] if ps.name in bundles.get(g, [])]
        rules.append(PreviewRule(
            name=rule.name, auto_approved=not rule.steps, max_duration_seconds=rule.max_duration_seconds,
            requester_ids=list(requesters),
            steps=[PreviewStep(name=spec.name, required=spec.required, approver_ids=list(ids))
                   for spec, ids in zip(rule.spec.steps, steps, strict=True)],
            via_permission_set_groups=via, requestable_alone=allows_alone(rule, ps.name, None),
        ))
    return Preview(account_id=found.id, permission_set_arn=ps.arn, rules=rules)
