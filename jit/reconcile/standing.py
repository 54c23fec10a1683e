"""Standing assignments: access that is meant to stay (break-glass roles, automation) and
is therefore never drift.

Declared in `JIT_STANDING_ASSIGNMENTS`, either inline JSON or a path to a JSON or YAML
file holding a list of entries such as

    - {account: "111122223333", permission_set: AdministratorAccess, principal: break-glass, principal_type: GROUP}
    - {account: "*", permission_set: "arn:aws:sso:::permissionSet/ssoins-1/ps-2", principal: ci-bot}

`account` and `permission_set` accept "*"; `permission_set` is a name or an ARN;
`principal` is a user name, a group display name, or an identity store id.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from jit.config import Settings
from jit.directory.models import Group, PermissionSet, User
from jit.errors import ValidationFailed


@dataclass(frozen=True)
class StandingAssignment:
    account: str
    permission_set: str
    principal: str
    principal_type: str = "USER"


@dataclass(frozen=True)
class AssignmentRef:
    account_id: str
    permission_set_arn: str
    principal_type: str
    principal_id: str


def parse(text: str | None) -> list[StandingAssignment]:
    if not text or not text.strip():
        return []
    raw = text.strip()
    if not raw.startswith(("[", "{")):
        path = Path(raw)
        if not path.exists():
            raise ValidationFailed(f"standing assignments file {raw!r} not found", field="standing_assignments")
        raw = path.read_text()
    try:
        data = yaml.safe_load(raw)  # JSON is YAML too
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"standing assignments are not valid JSON or YAML: {exc}", field="standing_assignments") from None
    if isinstance(data, dict):
        data = data.get("standing_assignments", [])
    if not isinstance(data, list):
        raise ValidationFailed("standing assignments must be a list", field="standing_assignments")
    out: list[StandingAssignment] = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not all(item.get(k) for k in ("account", "permission_set", "principal")):
            raise ValidationFailed(
                "each standing assignment needs account, permission_set and principal", field=f"standing_assignments[{i}]"
            )
        kind = str(item.get("principal_type", "USER")).upper()
        if kind not in ("USER", "GROUP"):
            raise ValidationFailed("principal_type must be USER or GROUP", field=f"standing_assignments[{i}].principal_type")
        out.append(StandingAssignment(str(item["account"]), str(item["permission_set"]), str(item["principal"]), kind))
    return out


class StandingSet:
    """Declared standing assignments with names resolved against the directory."""

    def __init__(self, entries: list[tuple[str, str, str, str]]) -> None:
        self._entries = entries  # (account|*, arn|*, principal type, principal id)

    def explains(self, ref: AssignmentRef) -> bool:
        return any(
            a in ("*", ref.account_id) and p in ("*", ref.permission_set_arn)
            and t == ref.principal_type and who == ref.principal_id
            for a, p, t, who in self._entries
        )


async def load(settings: Settings) -> StandingSet:
    declared = parse(settings.standing_assignments)
    if not declared:
        return StandingSet([])
    by_name = {p.name: p.arn for p in await PermissionSet.all()}
    users = {u.user_name: u.id for u in await User.all()}
    groups = {g.display_name: g.id for g in await Group.all()}
    entries = []
    for item in declared:
        arn = item.permission_set if item.permission_set == "*" else by_name.get(item.permission_set, item.permission_set)
        names = users if item.principal_type == "USER" else groups
        entries.append((item.account, arn, item.principal_type, names.get(item.principal, item.principal)))
    return StandingSet(entries)
