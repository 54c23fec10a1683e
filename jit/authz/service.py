"""The one place that decides who may do what.

Every question is answered by a Casbin enforcer compiled from the approval rules and the
directory. Each process keeps its own enforcer and rebuilds it when the policy version in
the database moves, so a change made by one replica is seen by all on their next check.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from jit import errors
from jit.approvals.models import Delegation
from jit.authz.compiler import (
    ADMIN,
    AUDITOR,
    DelegationGrant,
    Directory,
    compile_policy,
    delegation_object,
    target_object,
    user_subject,
)
from jit.authz.enforcer import PolicyEnforcer
from jit.authz.version import current_policy_version
from jit.config import Settings
from jit.directory.models import Account, Group, GroupMembership, PermissionSet, User
from jit.directory.queries import live
from jit.rules.models import ApprovalRule, PermissionSetGroup
from jit.rules.service import ou_name_paths


@dataclass(frozen=True)
class TicketParties:
    """What authorization needs to know about a ticket."""

    requester_id: str
    principal_id: str
    rule_ids: frozenset[str]


async def load_directory() -> Directory:
    accounts = await live(Account).values_list("id", "name")
    account_ids: dict[str, str] = {}
    for acc_id, name in accounts:
        account_ids[acc_id] = acc_id
        account_ids.setdefault(name, acc_id)
    ou_ids: dict[str, str] = {}
    for ou_id, path in await ou_name_paths():
        ou_ids[ou_id] = ou_id
        ou_ids[path] = ou_id
    return Directory(
        user_ids=dict(await live(User).values_list("user_name", "id")),
        group_ids=dict(await live(Group).values_list("display_name", "id")),
        memberships=list(
            await GroupMembership.filter(user__removed_at=None, group__removed_at=None).values_list(
                "user_id", "group_id"
            )
        ),
        account_ids=account_ids,
        ou_ids=ou_ids,
        permission_set_arns=dict(await live(PermissionSet).values_list("name", "arn")),
        permission_set_groups=dict(await PermissionSetGroup.all().values_list("name", "permission_sets")),
    )


async def load_delegations() -> list[DelegationGrant]:

    rows = await Delegation.filter(revoked_at=None).values_list(
        "delegator_id", "delegate_id", "starts_at", "ends_at", "rule_ids"
    )
    return [DelegationGrant(a, b, start, end, tuple(str(r) for r in rules or ())) for a, b, start, end, rules in rows]


class Authorizer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._enforcer: PolicyEnforcer | None = None
        self._rules: dict[str, ApprovalRule] = {}
        self._delegations: list[DelegationGrant] = []
        self._version = -1
        self._lock = asyncio.Lock()
        self._pinned: ContextVar[int | None] = ContextVar(f"jit-authz-pinned-{id(self)}", default=None)
        self.unresolved: list[str] = []

    @contextmanager
    def at_version(self, version: int) -> Iterator[None]:
        """Decide with the policy as of `version`, read by the caller moments ago, instead
        of reading it again for every check: a thousand subscribers of one event share one
        read. Read it outside any transaction (an uncommitted bump must not be pinned)."""
        token = self._pinned.set(version)
        try:
            yield
        finally:
            self._pinned.reset(token)

    async def _fresh(self) -> PolicyEnforcer:
        version = self._pinned.get()
        if version is None:
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
        delegations = await load_delegations()
        compiled = compile_policy(rules, await load_directory(), self._settings, delegations)
        enforcer = PolicyEnforcer(compiled)
        self._enforcer = enforcer
        self._delegations = delegations
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

        For someone else, the target must be one the principal could request, under a rule
        whose on-behalf lines let the actor request for the principal."""
        if actor_id == principal_id:
            return await self.rules_covering(actor_id, account, permission_set_arn)
        covering = await self.rules_covering(principal_id, account, permission_set_arn)
        allowed = await self.request_for_rule_ids(actor_id, principal_id)
        return [rule for rule in covering if str(rule.id) in allowed]

    async def request_for_rule_ids(self, actor_id: str, principal_id: str) -> set[str]:
        """Rules under which `actor_id` may request for `principal_id` (anyone may for themself)."""
        enforcer = await self._fresh()
        if actor_id == principal_id:
            return set(self._rules)
        sub, obj = user_subject(actor_id), user_subject(principal_id)
        return {rid for rid in self._rules if enforcer.enforce(sub, rid, obj, "request_for")}

    async def may_decide(
        self, actor_id: str, ticket: TicketParties, rule_id: str, step_index: int, now: datetime | None = None
    ) -> bool:
        return bool(await self.deciding_as(actor_id, ticket, rule_id, step_index, now))

    async def deciding_as(
        self, actor_id: str, ticket: TicketParties, rule_id: str, step_index: int, now: datetime | None = None
    ) -> list[str]:
        """Whose decision the actor may record on this step: themself if they are an
        approver, then each approver who delegated to them and whose delegation is valid
        at `now`. Not transitive: a delegator counts only with their own approver rights.
        Nobody decides a ticket they requested or receive, directly or by delegation."""
        selves = (ticket.requester_id, ticket.principal_id)
        if actor_id in selves:
            return []
        enforcer = await self._fresh()
        step = f"step:{step_index}"
        result = []
        if enforcer.enforce(user_subject(actor_id), rule_id, step, "decide"):
            result.append(actor_id)
        if now is not None:
            for delegator in self._delegators_of(actor_id):
                if delegator in selves or delegator in result:
                    continue
                if enforcer.enforce(
                    user_subject(actor_id), rule_id, delegation_object(delegator, now), "act_as"
                ) and enforcer.enforce(user_subject(delegator), rule_id, step, "decide"):
                    result.append(delegator)
        return result

    def _delegators_of(self, actor_id: str) -> list[str]:
        return sorted({d.delegator_id for d in self._delegations if d.delegate_id == actor_id})

    async def active_delegators(self, actor_id: str, rule_id: str, now: datetime) -> list[str]:
        """Who `actor_id` may act for under `rule_id` at `now`."""
        enforcer = await self._fresh()
        sub = user_subject(actor_id)
        return [
            d for d in self._delegators_of(actor_id)
            if enforcer.enforce(sub, rule_id, delegation_object(d, now), "act_as")
        ]

    async def approver_rule_ids(self, actor_id: str) -> set[str]:
        """Rules with a step `actor_id` may decide in their own right (what they can delegate)."""
        return {rid for rid, _ in await self.decidable_steps(actor_id)}

    async def may_cancel(self, actor_id: str, ticket: TicketParties) -> bool:
        if actor_id in (ticket.requester_id, ticket.principal_id):
            return True
        return await self.is_admin(actor_id)

    async def may_extend(self, actor_id: str, ticket: TicketParties) -> bool:
        """Only the people the access is for ask for more of it."""
        return actor_id in (ticket.requester_id, ticket.principal_id)

    async def may_break_glass(self, actor_id: str, ticket: TicketParties, rule_ids: frozenset[str] | set[str]) -> bool:
        """The requester approves their own ticket, only if every rule governing it allows it."""
        if actor_id != ticket.requester_id or not rule_ids:
            return False
        enforcer = await self._fresh()
        sub = user_subject(actor_id)
        return all(enforcer.enforce(sub, str(rid), "ticket", "break_glass") for rid in rule_ids)

    async def may_review(self, actor_id: str, ticket: TicketParties) -> bool:
        """A break-glass ticket is reviewed by an approver of one of its rules, never by
        the people it was for."""
        if actor_id in (ticket.requester_id, ticket.principal_id):
            return False
        enforcer = await self._fresh()
        sub = user_subject(actor_id)
        return any(enforcer.enforce(sub, rid, "ticket", "review") for rid in ticket.rule_ids)

    async def may_read(self, actor_id: str, ticket: TicketParties, now: datetime | None = None) -> bool:
        if actor_id in (ticket.requester_id, ticket.principal_id):
            return True
        if await self._any_rule(actor_id, ticket.rule_ids, "read"):
            return True
        # A delegate reads what their delegator may, while the delegation is valid, so the
        # tickets in their inbox open.
        if now is not None:
            for rid in ticket.rule_ids:
                for delegator in await self.active_delegators(actor_id, rid, now):
                    if delegator not in (ticket.requester_id, ticket.principal_id) and await self._any_rule(
                        delegator, frozenset({rid}), "read"
                    ):
                        return True
        return False

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

    async def require_admin(self, actor_id: str, act: str) -> None:
        """Raises NotAllowed ("only admins may <act>") unless the actor is an admin: the one admin
        check that the API and the CLI share."""
        if not await self.is_admin(actor_id):
            raise errors.NotAllowed(f"only admins may {act}")

    async def reads_everything(self, actor_id: str) -> bool:
        enforcer = await self._fresh()
        return enforcer.enforce(user_subject(actor_id), "*", "ticket", "read")

    async def is_admin_or_auditor(self, actor_id: str) -> bool:
        return bool(await self.roles(actor_id))

    async def roles(self, actor_id: str) -> list[str]:
        enforcer = await self._fresh()
        implicit = set(enforcer.get_implicit_roles_for_user(user_subject(actor_id)))
        return [name for role, name in ((ADMIN, "ADMIN"), (AUDITOR, "AUDITOR")) if role in implicit]

    async def readable_rule_ids(self, actor_id: str) -> set[str]:
        """Rules whose tickets `actor_id` may read as an approver."""
        enforcer = await self._fresh()
        sub = user_subject(actor_id)
        return {rid for rid in self._rules if enforcer.enforce(sub, rid, "ticket", "read")}

    async def delegated_steps(self, actor_id: str, now: datetime) -> dict[str, set[tuple[str, int]]]:
        """Delegator id -> (rule id, step index) pairs `actor_id` may decide for them at `now`."""
        await self._fresh()
        result: dict[str, set[tuple[str, int]]] = {}
        for delegator in self._delegators_of(actor_id):
            steps = {
                (rid, index) for rid, index in await self.decidable_steps(delegator)
                if delegator in await self.active_delegators(actor_id, rid, now)
            }
            if steps:
                result[delegator] = steps
        return result

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

    async def preview(
        self, account: Account, permission_set_arn: str
    ) -> list[tuple[ApprovalRule, list[str], list[list[str]]]]:
        """For each rule covering a target, strictest first: the live users who may request
        it for themself, and for each step the users who may decide it. Delegations are
        left out: they lend a decision for a while, they do not make an approver."""
        enforcer = await self._fresh()
        # Tortoise types a flat values_list as tuples; these are single user ids.
        users = cast(list[str], await live(User).order_by("user_name").values_list("id", flat=True))
        obj = target_object(account.ou_path, account.id, permission_set_arn)
        result = []
        for rid, rule in sorted(self._rules.items(), key=lambda kv: strictness(kv[1]), reverse=True):
            requesters = [u for u in users if enforcer.enforce(user_subject(u), rid, obj, "request")]
            if not requesters:
                continue
            steps = [
                [u for u in users if enforcer.enforce(user_subject(u), rid, f"step:{index}", "decide")]
                for index in range(len(rule.steps))
            ]
            result.append((rule, requesters, steps))
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


def strictness(rule: ApprovalRule) -> tuple[Any, ...]:
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

