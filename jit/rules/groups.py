"""Permission set groups: named bundles of permission sets, managed by admins, in the
API and as code. The only code that writes the permission_set_group table.

A group changes what rules scoped by it cover, so every change bumps the policy version
and is audited with the state before and after.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import yaml
from tortoise.transactions import in_transaction

from jit.audit.service import record
from jit.authz.version import bump_policy_version
from jit.directory.models import PermissionSet
from jit.directory.queries import live
from jit.errors import NotFound, ValidationFailed
from jit.rules.models import ApprovalRule, PermissionSetGroup
from jit.rules.schemas import GroupSpec as GroupSpec
from jit.rules.schemas import RuleSpec
from jit.rules.schemas import parse_group as parse_group
from jit.rules.service import ApplyReport, RuleService, column_values, load_rules_yaml

if TYPE_CHECKING:  # jit.runtime builds the authorizer, which reads rules
    from jit.runtime import Runtime


def group_to_spec(row: PermissionSetGroup) -> GroupSpec:
    return GroupSpec(name=row.name, description=row.description, permission_sets=list(row.permission_sets))


async def list_groups() -> list[PermissionSetGroup]:
    return await PermissionSetGroup.all().order_by("name")


async def get_group(group_id: uuid.UUID) -> PermissionSetGroup:
    row = await PermissionSetGroup.get_or_none(id=group_id)
    if row is None:
        raise NotFound(f"permission set group {group_id} not found", field="id")
    return row


@dataclass
class GroupReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


class GroupService:
    """Permission set groups: written only here. `actor_id` None is the operator (a rules
    file applied from the CLI); any person must be an admin."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.clock = rt.clock

    async def _require_admin(self, actor_id: str | None) -> None:
        if actor_id is not None:
            await self.rt.authz.require_admin(actor_id, "change permission set groups")

    async def _validate(self, spec: GroupSpec, group_id: uuid.UUID | None) -> None:
        clash = PermissionSetGroup.filter(name=spec.name)
        if group_id is not None:
            clash = clash.exclude(id=group_id)
        if await clash.exists():
            raise ValidationFailed(f"a permission set group named {spec.name!r} already exists", field="name")
        known = await column_values(live(PermissionSet), "name")
        seen: set[str] = set()
        for i, name in enumerate(spec.permission_sets):
            if name not in known:
                raise ValidationFailed(f"unknown permission set {name!r}", field=f"permission_sets[{i}]")
            if name in seen:
                raise ValidationFailed(f"permission set {name!r} is listed twice", field=f"permission_sets[{i}]")
            seen.add(name)

    async def create(self, spec: GroupSpec, actor_id: str | None) -> PermissionSetGroup:
        await self._require_admin(actor_id)
        await self._validate(spec, None)
        now = self.clock.now()
        async with in_transaction():
            row = await PermissionSetGroup.create(
                id=uuid.uuid4(), name=spec.name, description=spec.description,
                permission_sets=spec.permission_sets, created_at=now, updated_at=now,
            )
            await bump_policy_version()
            await record(now, actor_id, "permission_set_group.created", subject_id=spec.name,
                         detail={"group": spec.name, "before": None, "after": spec.model_dump()})
        return row

    async def update(self, group_id: uuid.UUID, spec: GroupSpec, actor_id: str | None) -> PermissionSetGroup:
        await self._require_admin(actor_id)
        row = await get_group(group_id)
        await self._validate(spec, group_id)
        if row.name != spec.name and await _rules_using(row.name):
            raise ValidationFailed(
                f"rules {sorted(await _rules_using(row.name))} use this group by name; rename it there first",
                field="name",
            )
        before = group_to_spec(row).model_dump()
        now = self.clock.now()
        row.name, row.description, row.permission_sets, row.updated_at = (
            spec.name, spec.description, spec.permission_sets, now,
        )
        async with in_transaction():
            await row.save()
            await bump_policy_version()
            await record(now, actor_id, "permission_set_group.updated", subject_id=spec.name,
                         detail={"group": spec.name, "before": before, "after": spec.model_dump()})
        return row

    async def delete(self, group_id: uuid.UUID, actor_id: str | None) -> None:
        await self._require_admin(actor_id)
        row = await get_group(group_id)
        using = await _rules_using(row.name)
        if using:
            raise ValidationFailed(f"rules {sorted(using)} are scoped by this group", field="id")
        async with in_transaction():
            await row.delete()
            await bump_policy_version()
            await record(self.clock.now(), actor_id, "permission_set_group.deleted", subject_id=row.name,
                         detail={"group": row.name, "before": group_to_spec(row).model_dump(), "after": None})

    async def apply(self, specs: list[GroupSpec], actor_id: str | None, prune: bool = False) -> GroupReport:
        await self._require_admin(actor_id)
        names = [s.name for s in specs]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValidationFailed(f"group names repeated in file: {sorted(dupes)}", field="permission_set_groups")
        existing = {g.name: g for g in await PermissionSetGroup.all()}
        for i, spec in enumerate(specs):
            try:
                await self._validate(spec, existing[spec.name].id if spec.name in existing else None)
            except ValidationFailed as exc:
                raise ValidationFailed(f"permission_set_groups[{i}] ({spec.name}): {exc.message}",
                                       field=f"permission_set_groups[{i}].{exc.field}") from None
        report = GroupReport()
        now = self.clock.now()
        async with in_transaction():
            for spec in specs:
                row = existing.get(spec.name)
                if row is None:
                    await PermissionSetGroup.create(
                        id=uuid.uuid4(), name=spec.name, description=spec.description,
                        permission_sets=spec.permission_sets, created_at=now, updated_at=now,
                    )
                    report.created.append(spec.name)
                    await record(now, actor_id, "permission_set_group.created", subject_id=spec.name,
                                 detail={"group": spec.name, "before": None, "after": spec.model_dump()})
                elif group_to_spec(row) != spec:
                    before = group_to_spec(row).model_dump()
                    row.description, row.permission_sets, row.updated_at = spec.description, spec.permission_sets, now
                    await row.save()
                    report.updated.append(spec.name)
                    await record(now, actor_id, "permission_set_group.updated", subject_id=spec.name,
                                 detail={"group": spec.name, "before": before, "after": spec.model_dump()})
                else:
                    report.unchanged.append(spec.name)
            if prune:
                for name, row in existing.items():
                    if name not in names:
                        await row.delete()
                        report.deleted.append(name)
                        await record(now, actor_id, "permission_set_group.deleted", subject_id=name,
                                     detail={"group": name, "before": group_to_spec(row).model_dump(), "after": None})
            await bump_policy_version()
        return report


async def _rules_using(name: str) -> set[str]:
    return {r.name for r in await ApprovalRule.all() if name in (r.permission_set_groups or [])}


def load_groups_yaml(text: str) -> list[GroupSpec]:
    """The `permission_set_groups` list of a rules file (absent means none)."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"not valid YAML: {exc}", field="file") from None
    if not isinstance(data, dict) or not isinstance(data.get("permission_set_groups", []), list):
        raise ValidationFailed("expected a mapping with a 'permission_set_groups' list", field="permission_set_groups")
    specs = []
    for i, item in enumerate(data.get("permission_set_groups", [])):
        try:
            specs.append(parse_group(item))
        except ValidationFailed as exc:
            raise ValidationFailed(f"permission_set_groups[{i}].{exc.message}",
                                   field=f"permission_set_groups[{i}].{exc.field}") from None
    return specs


def dump_groups_yaml(groups: list[PermissionSetGroup]) -> str:
    if not groups:
        return ""
    return yaml.safe_dump({"permission_set_groups": [group_to_spec(g).model_dump() for g in groups]},
                          sort_keys=False, default_flow_style=False)


@dataclass
class FileReport:
    groups: GroupReport
    rules: ApplyReport


async def apply_rules_file(rt: Runtime, text: str, actor_id: str | None, prune: bool = False) -> FileReport:
    """Groups first, so rules in the same file may be scoped by them. Groups a remaining
    rule still uses are never pruned."""
    group_specs = load_groups_yaml(text)
    rule_specs: list[RuleSpec] = load_rules_yaml(text)
    # One transaction for the whole file: a bad rule also undoes the file's groups.
    async with in_transaction():
        groups = await GroupService(rt).apply(group_specs, actor_id, prune=False)
        rules = await RuleService(rt).apply(rule_specs, actor_id, prune=prune)
        if prune:
            names = {s.name for s in group_specs}
            service = GroupService(rt)
            for row in await PermissionSetGroup.all():
                if row.name not in names and not await _rules_using(row.name):
                    await service.delete(row.id, actor_id)
                    groups.deleted.append(row.name)
    return FileReport(groups, rules)
