"""The one place that decides who may do what.

Every question is answered by a Casbin enforcer compiled from the approval rules and the
directory. Each process keeps its own enforcer and rebuilds it when the policy version in
the database moves, so a change made by one replica is seen by all on their next check.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from importlib import resources

import casbin

from jit.authz.compiler import (
    ADMIN,
    AUDITOR,
    Directory,
    compile_policy,
    object_match,
    target_object,
    user_subject,
)
from jit.authz.version import current_policy_version
from jit.config import Settings
from jit.directory.models import Account, Group, GroupMembership, PermissionSet, User
from jit.rules.models import ApprovalRule
from jit.rules.service import ou_name_paths


@dataclass(frozen=True)
class TicketParties:
    """What authorization needs to know about a ticket."""

    requester_id: str
    principal_id: str
    rule_ids: frozenset[str]


async def load_directory() -> Directory:
    accounts = await Account.filter(removed_at=None).values_list("id", "name")
    account_ids: dict[str, str] = {}
    for acc_id, name in accounts:
        account_ids[acc_id] = acc_id
        account_ids.setdefault(name, acc_id)
    ou_ids: dict[str, str] = {}
    for ou_id, path in await ou_name_paths():
        ou_ids[ou_id] = ou_id
        ou_ids[path] = ou_id
    return Directory(
        user_ids=dict(await User.filter(removed_at=None).values_list("user_name", "id")),
        group_ids=dict(await Group.filter(removed_at=None).values_list("display_name", "id")),
        memberships=list(
            await GroupMembership.filter(user__removed_at=None, group__removed_at=None).values_list(
                "user_id", "group_id"
            )
        ),
        account_ids=account_ids,
        ou_ids=ou_ids,
        permission_set_arns=dict(await PermissionSet.filter(removed_at=None).values_list("name", "arn")),
    )


class Authorizer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._enforcer: casbin.Enforcer | None = None
        self._rules: dict[str, ApprovalRule] = {}
        self._version = -1
        self._lock = asyncio.Lock()
        self.unresolved: list[str] = []

    async def _fresh(self) -> casbin.Enforcer:
        version = await current_policy_version()
        if self._enforcer is not None and version == self._version:
            return self._enforcer
        async with self._lock:
            if self._enforcer is None or version != self._version:
                await self._rebuild(version)
        assert self._enforcer is not None
        return self._enforcer

    async def _rebuild(self, version: int) -> None:
        rules = await ApprovalRule.all()
        compiled = compile_policy(rules, await load_directory(), self._settings)
        model = casbin.Model()
        model.load_model_from_text(resources.files("jit.authz").joinpath("model.conf").read_text())
        enforcer = casbin.Enforcer(model)
        enforcer.add_function("objectMatch", object_match)
        if compiled.policies:
            enforcer.add_policies(compiled.policies)
        if compiled.groupings:
            enforcer.add_grouping_policies(compiled.groupings)
        self._enforcer = enforcer
        self._rules = {str(r.id): r for r in rules}
        self._version = version
        self.unresolved = compiled.unresolved

    async def rules_covering(self, user_id: str, account: Account, permission_set_arn: str) -> list[ApprovalRule]:
        """The rules under which `user_id` may request this target, strictest first."""
        enforcer = await self._fresh()
        obj = target_object(account.ou_path, account.id, permission_set_arn)
        sub = user_subject(user_id)
        found = [rule for rid, rule in self._rules.items() if enforcer.enforce(sub, rid, obj, "request")]
        return sorted(found, key=strictness, reverse=True)

    async def may_request(
        self, actor_id: str, principal_id: str, account: Account, permission_set_arn: str
    ) -> list[ApprovalRule]:
        """Rules under which actor may request the target for principal; empty means no.

        On-behalf requests are not granted by any rule yet, so the principal must be the
        actor."""
        if actor_id != principal_id:
            return []
        return await self.rules_covering(actor_id, account, permission_set_arn)

    async def may_decide(self, actor_id: str, ticket: TicketParties, rule_id: str, step_index: int) -> bool:
        if actor_id in (ticket.requester_id, ticket.principal_id):
            return False
        enforcer = await self._fresh()
        return enforcer.enforce(user_subject(actor_id), rule_id, f"step:{step_index}", "decide")

    async def may_read(self, actor_id: str, ticket: TicketParties) -> bool:
        if actor_id in (ticket.requester_id, ticket.principal_id):
            return True
        return await self._any_rule(actor_id, ticket.rule_ids, "read")

    async def may_revoke(self, actor_id: str, ticket: TicketParties) -> bool:
        if actor_id in (ticket.requester_id, ticket.principal_id):
            return True
        return await self._any_rule(actor_id, ticket.rule_ids, "revoke")

    async def _any_rule(self, actor_id: str, rule_ids: frozenset[str], act: str) -> bool:
        enforcer = await self._fresh()
        sub = user_subject(actor_id)
        if enforcer.enforce(sub, "*", "ticket", act):
            return True
        return any(enforcer.enforce(sub, rid, "ticket", act) for rid in rule_ids)

    async def is_admin(self, actor_id: str) -> bool:
        enforcer = await self._fresh()
        return enforcer.enforce(user_subject(actor_id), "*", "*", "manage_rules")

    async def reads_everything(self, actor_id: str) -> bool:
        enforcer = await self._fresh()
        return enforcer.enforce(user_subject(actor_id), "*", "ticket", "read")

    async def roles(self, actor_id: str) -> list[str]:
        enforcer = await self._fresh()
        implicit = set(enforcer.get_implicit_roles_for_user(user_subject(actor_id)))
        return [name for role, name in ((ADMIN, "ADMIN"), (AUDITOR, "AUDITOR")) if role in implicit]

    async def readable_rule_ids(self, actor_id: str) -> set[str]:
        """Rules whose tickets `actor_id` may read as an approver."""
        enforcer = await self._fresh()
        sub = user_subject(actor_id)
        return {rid for rid in self._rules if enforcer.enforce(sub, rid, "ticket", "read")}

    async def decidable_steps(self, actor_id: str) -> set[tuple[str, int]]:
        """(rule id, step index) pairs `actor_id` may decide, for the inbox."""
        enforcer = await self._fresh()
        sub = user_subject(actor_id)
        result = set()
        for rid, rule in self._rules.items():
            for index in range(len(rule.steps)):
                if enforcer.enforce(sub, rid, f"step:{index}", "decide"):
                    result.add((rid, index))
        return result

    async def requestable(self, user_id: str) -> list[tuple[ApprovalRule, str, str]]:
        """(rule, scope id, permission set arn) triples the user may request under."""
        enforcer = await self._fresh()
        result = []
        for line in enforcer.get_implicit_permissions_for_user(user_subject(user_id)):
            _sub, rid, obj, act = line[:4]
            if act != "request" or rid not in self._rules:
                continue
            scope, _, arn = obj.partition("#")
            result.append((self._rules[rid], scope, arn))
        return result


def strictness(rule: ApprovalRule) -> tuple:
    """Orders rules from the most to the least demanding."""
    return (
        len(rule.steps),
        sum(int(s.get("required", 1)) for s in rule.steps),
        rule.justification_required,
        -rule.max_duration_seconds,
        rule.name,
    )


def parties(requester_id: str, principal_id: str, rule_ids: set[str] | frozenset[str]) -> TicketParties:
    return TicketParties(requester_id, principal_id, frozenset(str(r) for r in rule_ids))

