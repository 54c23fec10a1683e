"""Compiles approval rules, the directory and the admin/auditor settings into Casbin
policy lines. Pure: it takes rows and returns lines, so it can be tested alone."""

from __future__ import annotations

from dataclasses import dataclass, field

from jit.config import Settings
from jit.rules.models import ApprovalRule

ADMIN = "role:admin"
AUDITOR = "role:auditor"


def user_subject(user_id: str) -> str:
    return f"user:{user_id}"


def target_object(ou_path: str, account_id: str, permission_set_arn: str) -> str:
    """A target as the enforcer sees it: its place in the organization plus the permission set."""
    return f"{ou_path}{account_id}#{permission_set_arn}"


def object_match(request_obj: str, policy_obj: str) -> bool:
    if policy_obj == "*":
        return True
    if "#" not in policy_obj:
        return request_obj == policy_obj
    scope, _, ps = policy_obj.partition("#")
    path, _, request_ps = request_obj.partition("#")
    if ps != request_ps:
        return False
    # A scope entry is an account id or an OU id; both appear as whole segments of the path.
    return f"/{scope}/" in f"{path}/"


@dataclass
class Directory:
    """The directory facts the compiler needs, keyed the way rules name things."""

    user_ids: dict[str, str]  # user name -> id
    group_ids: dict[str, str]  # display name -> id
    memberships: list[tuple[str, str]]  # (user id, group id)
    account_ids: dict[str, str]  # id or name -> id
    ou_ids: dict[str, str]  # id or name path -> id
    permission_set_arns: dict[str, str]  # name -> arn


@dataclass
class CompiledPolicy:
    policies: list[list[str]] = field(default_factory=list)
    groupings: list[list[str]] = field(default_factory=list)
    # Names a rule uses that the directory no longer has; such entries grant nothing.
    unresolved: list[str] = field(default_factory=list)


def compile_policy(rules: list[ApprovalRule], directory: Directory, settings: Settings) -> CompiledPolicy:
    out = CompiledPolicy()
    seen: set[tuple[str, ...]] = set()

    def add(*line: str) -> None:
        if line not in seen:
            seen.add(line)
            out.policies.append(list(line))

    def subjects(users: list[str], groups: list[str], where: str) -> list[str]:
        result = []
        for name in users:
            if name in directory.user_ids:
                result.append(user_subject(directory.user_ids[name]))
            else:
                out.unresolved.append(f"{where}: user {name}")
        for name in groups:
            if name in directory.group_ids:
                result.append(f"group:{directory.group_ids[name]}")
            else:
                out.unresolved.append(f"{where}: group {name}")
        return result

    for user_id, group_id in directory.memberships:
        out.groupings.append([user_subject(user_id), f"group:{group_id}"])
    for names, role in ((settings.admin_groups, ADMIN), (settings.auditor_groups, AUDITOR)):
        for name in names:
            if name in directory.group_ids:
                out.groupings.append([f"group:{directory.group_ids[name]}", role])
    for act in ("read", "revoke", "manage_rules"):
        add(ADMIN, "*", "*", act)
    add(AUDITOR, "*", "*", "read")

    for rule in rules:
        rid = str(rule.id)
        scopes = []
        for ref in rule.accounts:
            if ref in directory.account_ids:
                scopes.append(directory.account_ids[ref])
            else:
                out.unresolved.append(f"{rule.name}: account {ref}")
        for ref in rule.organizational_units:
            if ref in directory.ou_ids:
                scopes.append(directory.ou_ids[ref])
            else:
                out.unresolved.append(f"{rule.name}: organizational unit {ref}")
        arns = []
        for name in rule.permission_sets:
            if name in directory.permission_set_arns:
                arns.append(directory.permission_set_arns[name])
            else:
                out.unresolved.append(f"{rule.name}: permission set {name}")
        for sub in subjects(rule.requester_users, rule.requester_groups, rule.name):
            for scope in scopes:
                for arn in arns:
                    add(sub, rid, f"{scope}#{arn}", "request")
        for index, step in enumerate(rule.steps):
            for sub in subjects(step.get("users", []), step.get("groups", []), f"{rule.name} step {index}"):
                add(sub, rid, f"step:{index}", "decide")
                # Approvers of a rule may follow, and end early, the tickets it governs.
                add(sub, rid, "ticket", "read")
                add(sub, rid, "ticket", "revoke")
    return out
