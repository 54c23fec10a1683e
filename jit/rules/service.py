"""Approval rules: the only code that writes the approval_rule table."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from jit.audit.service import record
from jit.authz.version import bump_policy_version
from jit.directory.models import Account, Group, OrganizationalUnit, PermissionSet, User
from jit.directory.queries import live
from jit.errors import NotFound, ValidationFailed
from jit.rules.models import ApprovalRule, PermissionSetGroup
from jit.rules.schemas import RuleSpec, parse_rule

if TYPE_CHECKING:  # jit.runtime builds the authorizer, which reads rules
    from jit.runtime import Runtime


async def list_rules() -> list[ApprovalRule]:
    return await ApprovalRule.all().order_by("name")


async def get_rule(rule_id: uuid.UUID) -> ApprovalRule:
    rule = await ApprovalRule.get_or_none(id=rule_id)
    if rule is None:
        raise NotFound(f"approval rule {rule_id} not found", field="id")
    return rule


async def column_values(query: QuerySet[Any], column: str) -> set[str]:
    """The distinct values of one text column of a query's rows."""
    return {str(row[column]) for row in await query.values(column)}


async def _check_references(spec: RuleSpec) -> None:
    """Every name in a rule must exist in the synced directory, so typos fail loudly."""

    async def check(values: Iterable[str], known: set[str], field: str, what: str) -> None:
        for i, value in enumerate(values):
            if value not in known:
                raise ValidationFailed(f"unknown {what} {value!r}", field=f"{field}[{i}]")

    user_names = await column_values(live(User), "user_name")
    group_names = await column_values(live(Group), "display_name")
    group_names_dir = group_names
    await check(spec.requesters.users, user_names, "requesters.users", "user")
    await check(spec.requesters.groups, group_names, "requesters.groups", "group")
    for n, step in enumerate(spec.steps):
        await check(step.users, user_names, f"steps[{n}].users", "user")
        await check(step.groups, group_names, f"steps[{n}].groups", "group")
        if not step.users and not step.groups:
            raise ValidationFailed("a step needs at least one approver", field=f"steps[{n}]")

    accounts = await live(Account).values_list("id", "name")
    await check(spec.scope.accounts, {a for pair in accounts for a in pair}, "scope.accounts", "account")
    ou_refs: set[str] = set()
    for ou_id, path in await ou_name_paths():
        ou_refs.update((ou_id, path))
    await check(spec.scope.organizational_units, ou_refs, "scope.organizational_units", "organizational unit")
    ps_names = await column_values(live(PermissionSet), "name")
    await check(spec.scope.permission_sets, ps_names, "scope.permission_sets", "permission set")
    ps_group_names = await column_values(PermissionSetGroup.all(), "name")
    await check(spec.scope.permission_set_groups, ps_group_names, "scope.permission_set_groups", "permission set group")
    for n, entry in enumerate(spec.on_behalf):
        await check(entry.requesters.users, user_names, f"on_behalf[{n}].requesters.users", "user")
        await check(entry.requesters.groups, group_names_dir, f"on_behalf[{n}].requesters.groups", "group")
        await check(entry.principals.users, user_names, f"on_behalf[{n}].principals.users", "user")
        await check(entry.principals.groups, group_names_dir, f"on_behalf[{n}].principals.groups", "group")
        if (not (entry.requesters.users or entry.requesters.groups)
                or not (entry.principals.users or entry.principals.groups)):
            raise ValidationFailed("an on-behalf entry names requesters and principals", field=f"on_behalf[{n}]")
    if spec.extension is not None and spec.extension.steps is not None and spec.extension.steps > len(spec.steps):
        raise ValidationFailed("an extension cannot need more steps than the rule has", field="extension.steps")
    if not spec.scope.accounts and not spec.scope.organizational_units:
        raise ValidationFailed("a rule must cover at least one account or OU", field="scope")
    if not spec.scope.permission_sets and not spec.scope.permission_set_groups:
        raise ValidationFailed("a rule must name at least one permission set", field="scope.permission_sets")
    if not spec.requesters.users and not spec.requesters.groups:
        raise ValidationFailed("a rule must name who may request", field="requesters")


async def ou_name_paths(include_removed: bool = False) -> list[tuple[str, str]]:
    """(ou id, name path) pairs: the root is "/", a child of it "/Sandbox"."""
    qs = OrganizationalUnit.all() if include_removed else live(OrganizationalUnit)
    units = await qs.values("id", "name", "parent_id")
    by_id = {u["id"]: u for u in units}
    result = []
    for unit in units:
        names: list[str] = []
        cursor: dict[str, Any] | None = unit
        while cursor is not None and cursor["parent_id"] is not None:
            names.append(cursor["name"])
            cursor = by_id.get(cursor["parent_id"])
        result.append((unit["id"], "/" + "/".join(reversed(names))))
    return result


async def resolve_ou(ref: str, field: str) -> str:
    """An OU id from an id or a name path ("/Workloads/Prod", a trailing slash allowed);
    an unknown one is NotFound naming `field`."""
    text = ref.strip()
    wanted = text.rstrip("/") or "/"
    for unit_id, path in await ou_name_paths():
        if text == unit_id or wanted == path:
            return unit_id
    raise NotFound(f"unknown organizational unit {ref!r}: give an OU id or a name path such as /Workloads/Prod",
                   field=field)


def _apply_spec(rule: ApprovalRule, spec: RuleSpec) -> None:
    rule.name = spec.name
    rule.description = spec.description
    rule.requester_users = spec.requesters.users
    rule.requester_groups = spec.requesters.groups
    rule.accounts = spec.scope.accounts
    rule.organizational_units = spec.scope.organizational_units
    rule.permission_sets = spec.scope.permission_sets
    rule.max_duration_seconds = spec.max_duration_seconds
    rule.justification_required = spec.justification_required
    rule.steps = [step.model_dump() for step in spec.steps]
    rule.permission_set_groups = spec.scope.permission_set_groups
    rule.permission_set_groups_bundle_only = spec.scope.permission_set_groups_bundle_only
    rule.on_behalf = [entry.model_dump() for entry in spec.on_behalf]
    rule.break_glass = spec.break_glass
    rule.approval_window_seconds = spec.approval_window_seconds
    rule.extension = spec.extension.model_dump() if spec.extension else None


def rule_to_spec(rule: ApprovalRule) -> RuleSpec:
    """The same as `rule.spec`, for callers that map over rules."""
    return rule.spec


@dataclass
class ApplyReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)



class RuleService:
    """Approval rules: written only here (and by jit.rules.changes once a change is approved).
    `actor_id` None is the operator (a rules file applied from the CLI); any person must be
    an admin, for the API and every other caller alike."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.settings = rt.settings
        self.clock = rt.clock

    async def _require_admin(self, actor_id: str | None) -> None:
        if actor_id is not None:
            await self.rt.authz.require_admin(actor_id, "change approval rules")

    async def _validate(self, spec: RuleSpec, rule_id: uuid.UUID | None) -> None:
        if spec.max_duration_seconds < self.settings.min_duration_seconds:
            raise ValidationFailed(
                f"max_duration_seconds must be at least {self.settings.min_duration_seconds}",
                field="max_duration_seconds",
            )
        clash = ApprovalRule.filter(name=spec.name)
        if rule_id is not None:
            clash = clash.exclude(id=rule_id)
        if await clash.exists():
            raise ValidationFailed(f"a rule named {spec.name!r} already exists", field="name")
        await _check_references(spec)

    async def create(self, spec: RuleSpec, actor_id: str | None) -> ApprovalRule:
        await self._require_admin(actor_id)
        await self._validate(spec, None)
        now = self.clock.now()
        rule = ApprovalRule(id=uuid.uuid4(), created_at=now, updated_at=now)
        _apply_spec(rule, spec)
        async with in_transaction():
            await rule.save()
            await bump_policy_version()
            await record(now, actor_id, "rule.created", subject_id=rule.id,
                         detail={"rule": rule.name, "after": spec.model_dump()})
        return rule

    async def update(self, rule_id: uuid.UUID, spec: RuleSpec, actor_id: str | None) -> ApprovalRule:
        await self._require_admin(actor_id)
        rule = await get_rule(rule_id)
        await self._validate(spec, rule_id)
        before = rule.spec.model_dump()
        _apply_spec(rule, spec)
        rule.updated_at = self.clock.now()
        async with in_transaction():
            await rule.save()
            await bump_policy_version()
            await record(
                rule.updated_at, actor_id, "rule.updated", subject_id=rule.id,
                detail={"rule": rule.name, "before": before, "after": spec.model_dump()},
            )
        return rule

    async def delete(self, rule_id: uuid.UUID, actor_id: str | None) -> None:
        await self._require_admin(actor_id)
        rule = await get_rule(rule_id)
        async with in_transaction():
            await rule.delete()
            await bump_policy_version()
            await record(self.clock.now(), actor_id, "rule.deleted", subject_id=rule.id,
                         detail={"rule": rule.name, "before": rule.spec.model_dump()})

    async def apply(self, specs: list[RuleSpec], actor_id: str | None, prune: bool = False) -> ApplyReport:
        """Make the database match a rules file: create and update by name, and with
        `prune` delete the rules the file no longer names. All or nothing."""
        await self._require_admin(actor_id)
        names = [s.name for s in specs]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValidationFailed(f"rule names repeated in file: {sorted(dupes)}", field="rules")
        existing = {r.name: r for r in await ApprovalRule.all()}
        for i, spec in enumerate(specs):
            try:
                await self._validate(spec, existing[spec.name].id if spec.name in existing else None)
            except ValidationFailed as exc:
                raise ValidationFailed(f"rules[{i}] ({spec.name}): {exc.message}",
                                       field=f"rules[{i}].{exc.field}") from None
        report = ApplyReport()
        now = self.clock.now()
        async with in_transaction():
            for spec in specs:
                rule = existing.get(spec.name)
                if rule is None:
                    rule = ApprovalRule(id=uuid.uuid4(), created_at=now, updated_at=now)
                    _apply_spec(rule, spec)
                    await rule.save()
                    report.created.append(spec.name)
                    await record(now, actor_id, "rule.created", subject_id=rule.id,
                                 detail={"rule": spec.name, "after": spec.model_dump()})
                elif rule.spec != spec:
                    before = rule.spec.model_dump()
                    _apply_spec(rule, spec)
                    rule.updated_at = now
                    await rule.save()
                    report.updated.append(spec.name)
                    await record(
                        now, actor_id, "rule.updated", subject_id=rule.id,
                        detail={"rule": spec.name, "before": before, "after": spec.model_dump()},
                    )
                else:
                    report.unchanged.append(spec.name)
            if prune:
                for name, rule in existing.items():
                    if name not in names:
                        await rule.delete()
                        report.deleted.append(name)
                        await record(now, actor_id, "rule.deleted", subject_id=rule.id,
                                     detail={"rule": name, "before": rule.spec.model_dump()})
            await bump_policy_version()
        return report


def load_rules_yaml(text: str) -> list[RuleSpec]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"not valid YAML: {exc}", field="file") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules", []), list):
        raise ValidationFailed("expected a mapping with a 'rules' list", field="rules")
    specs = []
    for i, item in enumerate(data.get("rules", [])):
        try:
            specs.append(parse_rule(item))
        except ValidationFailed as exc:
            raise ValidationFailed(f"rules[{i}].{exc.message}", field=f"rules[{i}].{exc.field}") from None
    return specs


def dump_rules_yaml(rules: list[ApprovalRule]) -> str:
    return yaml.safe_dump(
        {"rules": [r.spec.model_dump() for r in rules]}, sort_keys=False, default_flow_style=False
    )
