"""Compiles approval rules, the directory and the admin/auditor settings into Casbin
policy lines. Pure: it takes rows and returns lines, so it can be tested alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from jit.config import Settings
from jit.rules.models import ApprovalRule

ADMIN = "role:admin"
AUDITOR = "role:auditor"


def user_subject(user_id: str) -> str:
    return f"user:{user_id}"


def target_object(ou_path: str, account_id: str, permission_set_arn: str) -> str:
    """A target as the enforcer sees it: its place in the organization plus the permission set."""
    return f"{ou_path}{account_id}#{permission_set_arn}"


def delegation_object(delegator_id: str, at: datetime) -> str:
    """What a delegate asks for: to act as the delegator at this moment."""
    return f"delegation:{delegator_id}@{int(at.timestamp())}"


def delegation_window(delegator_id: str, starts_at: datetime, ends_at: datetime) -> str:
    return f"delegation:{delegator_id}@{int(starts_at.timestamp())}..{int(ends_at.timestamp())}"


def _delegation_match(request_obj: str, policy_obj: str) -> bool:
    # The window is part of the policy, so validity is decided when the delegate acts.
    who, _, at = request_obj.partition("@")
    policy_who, _, window = policy_obj.partition("@")
    start, _, end = window.partition("..")
    try:
        return who == policy_who and int(start) <= int(at) < int(end)
    except ValueError:
        return False


def object_match(request_obj: str, policy_obj: str) -> bool:
    if policy_obj == "*":
        return True
    if policy_obj.startswith("delegation:"):
        return request_obj.startswith("delegation:") and _delegation_match(request_obj, policy_obj)
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
    # permission set group name -> permission set names
    permission_set_groups: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class DelegationGrant:
    """A delegation that has not been revoked; its window is checked at enforcement."""

    delegator_id: str
    delegate_id: str
    starts_at: datetime
    ends_at: datetime
    rule_ids: tuple[str, ...]  # empty: every rule


@dataclass
class CompiledPolicy:
    policies: list[list[str]] = field(default_factory=list)
    groupings: list[list[str]] = field(default_factory=list)
    # Names a rule uses that the directory no longer has; such entries grant nothing.
    unresolved: list[str] = field(default_factory=list)


def compile_policy(
    rules: list[ApprovalRule],
    directory: Directory,
    settings: Settings,
    delegations: list[DelegationGrant] | None = None,
) -> CompiledPolicy:
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
        names = list(rule.permission_sets)
        for group in getattr(rule, "permission_set_groups", None) or []:
            if group in directory.permission_set_groups:
                names.extend(directory.permission_set_groups[group])
            else:
                out.unresolved.append(f"{rule.name}: permission set group {group}")
        for name in dict.fromkeys(names):
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
                add(sub, rid, "ticket", "review")
        for n, entry in enumerate(getattr(rule, "on_behalf", None) or []):
            where = f"{rule.name} on_behalf[{n}]"
            requesters = entry.get("requesters", {})
            principals = entry.get("principals", {})
            for sub in subjects(requesters.get("users", []), requesters.get("groups", []), where):
                for obj in subjects(principals.get("users", []), principals.get("groups", []), where):
                    add(sub, rid, obj, "request_for")
        if getattr(rule, "break_glass", False):
            for sub in subjects(rule.requester_users, rule.requester_groups, rule.name):
                add(sub, rid, "ticket", "break_glass")
    for grant in delegations or []:
        window = delegation_window(grant.delegator_id, grant.starts_at, grant.ends_at)
        for rid in grant.rule_ids or ("*",):
            add(user_subject(grant.delegate_id), rid, window, "act_as")
    return out
