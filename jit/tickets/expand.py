"""Turns what a person asked for into plain targets: an OU becomes its accounts as of
now, a permission set group becomes one target per permission set."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from jit.directory.models import Account, OrganizationalUnit
from jit.directory.queries import live
from jit.errors import ValidationFailed
from jit.rules.models import PermissionSetGroup
from jit.rules.service import ou_name_paths


class AskedTarget(Protocol):
    """What a person asked for (jit.tickets.service.TargetRequest)."""

    account_id: str | None
    organizational_unit: str | None
    permission_set: str | None  # a name or an ARN
    permission_set_group: str | None


@dataclass(frozen=True)
class PlainTarget:
    account_id: str
    permission_set: str  # name or ARN
    field: str  # the input this target came from, for error messages
    permission_set_group: str | None = None


async def _ou_accounts(ref: str) -> list[Account] | None:
    ou_id = None
    for unit_id, path in await ou_name_paths():
        if ref in (unit_id, path):
            ou_id = unit_id
            break
    if ou_id is None:
        return None
    unit = await OrganizationalUnit.get(id=ou_id)
    accounts = await live(Account).filter(ou_path__startswith=unit.path).order_by("name")
    return list(accounts)


async def expand_targets(targets: Sequence[AskedTarget], max_targets: int) -> list[PlainTarget]:
    """Each target names an account or an OU, and a permission set or a permission set
    group. Raises ValidationFailed naming the field."""
    groups = {g.name: g for g in await PermissionSetGroup.all()}
    result: list[PlainTarget] = []
    for i, target in enumerate(targets):
        where = f"targets[{i}]"
        account_ref = target.account_id
        ou_ref = target.organizational_unit
        group_name = target.permission_set_group
        ps_ref = target.permission_set
        if bool(account_ref) == bool(ou_ref):
            raise ValidationFailed("name exactly one of an account or an organizational unit", field=where)
        if bool(ps_ref) == bool(group_name):
            raise ValidationFailed("name exactly one of a permission set or a permission set group", field=where)
        if group_name:
            group = groups.get(group_name)
            if group is None:
                raise ValidationFailed(f"unknown permission set group {group_name!r}",
                                       field=f"{where}.permissionSetGroup")
            permission_sets = list(group.permission_sets)
        elif ps_ref:  # the checks above leave exactly one of the two named
            permission_sets = [ps_ref]
        if ou_ref:
            accounts = await _ou_accounts(ou_ref)
            if accounts is None:
                raise ValidationFailed(f"unknown organizational unit {ou_ref!r}",
                                       field=f"{where}.organizationalUnitId")
            if not accounts:
                raise ValidationFailed(f"organizational unit {ou_ref!r} has no accounts",
                                       field=f"{where}.organizationalUnitId")
            expanded = len(result) + len(accounts) * len(permission_sets)
            if expanded > max_targets:
                raise ValidationFailed(
                    f"organizational unit {ou_ref!r} expands to {len(accounts) * len(permission_sets)} targets; "
                    f"a ticket may have at most {max_targets} (JIT_MAX_TARGETS)",
                    field=f"{where}.organizationalUnitId",
                )
            account_ids = [a.id for a in accounts]
        elif account_ref:
            account_ids = [account_ref]
        for account_id in account_ids:
            for ps in permission_sets:
                result.append(PlainTarget(account_id, ps, where, group_name))
        if len(result) > max_targets:
            raise ValidationFailed(f"at most {max_targets} targets per ticket (JIT_MAX_TARGETS)", field="targets")
    return result
