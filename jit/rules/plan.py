"""What a rules file would change, without writing it (`jit rules plan`), and the approval
steps no ticket can ever pass.

The plan applies the file inside a transaction and rolls it back, so it is exactly what
`jit rules apply` would do: the same validation, the same creates, updates and deletes.
Who may request what is read from the rules and the synced directory before and after.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tortoise.transactions import in_transaction

from jit.authz.compiler import Directory
from jit.authz.service import load_directory
from jit.directory.models import Account, GroupMembership, User
from jit.directory.queries import live
from jit.errors import NotAllowed
from jit.rules.groups import apply_rules_file
from jit.rules.models import ApprovalRule
from jit.rules.schemas import StepSpec
from jit.rules.service import column_values, load_rules_yaml

if TYPE_CHECKING:  # jit.runtime builds the authorizer, which reads rules
    from jit.runtime import Runtime

# (user name, account name, permission set name)
Right = tuple[str, str, str]


def step_approvers(step: StepSpec, directory: Directory) -> set[str]:
    """The distinct people (user ids) a step's users and groups name, as last synced."""
    people = {directory.user_ids[u] for u in step.users if u in directory.user_ids}
    groups = {directory.group_ids[g] for g in step.groups if g in directory.group_ids}
    people |= {user for user, group in directory.memberships if group in groups}
    return people


def step_warnings(name: str, steps: Sequence[StepSpec], directory: Directory) -> list[str]:
    """One line per step that needs more approvals than its groups and users hold people."""
    out = []
    for index, step in enumerate(steps):
        required = step.required
        people = len(step_approvers(step, directory))
        if required > people:
            out.append(f"rule {name!r} step {index + 1} ({step.name!r}) needs {required} approvals but "
                       f"its groups and users hold {people} {'person' if people == 1 else 'people'} as synced: "
                       "no ticket under it can be approved")
    return out


def unmeetable(steps: Sequence[StepSpec], directory: Directory,
               excluded: set[str]) -> tuple[int, StepSpec, int] | None:
    """The first step fewer people can approve than it requires, leaving out `excluded`
    (the requester and the principal, who never decide their own ticket)."""
    for index, step in enumerate(steps):
        people = len(step_approvers(step, directory) - excluded)
        if step.required > people:
            return index, step, people
    return None


async def step_people(step: StepSpec) -> set[str]:
    """step_approvers from the database, for one step (two small queries, not the directory)."""
    people = await column_values(live(User).filter(user_name__in=step.users), "id")
    if step.groups:
        people |= await column_values(GroupMembership.filter(
            group__display_name__in=step.groups, group__removed_at=None, user__removed_at=None,
        ), "user_id")
    return people


async def refuse_unmeetable(rules: list[ApprovalRule], excluded: set[str]) -> None:
    """A ticket one of whose steps fewer people can approve than it requires could never be
    approved: refuse it now, saying which step, rather than leave it to expire."""
    for rule in rules:
        if rule.break_glass:
            continue  # the requester may approve it themself
        for index, step in enumerate(rule.spec.steps):
            required = step.required
            people = len(await step_people(step) - excluded)
            if required > people:
                raise NotAllowed(
                    f"rule {rule.name!r} step {index + 1} ({step.name!r}) needs {required} approvals but "
                    f"only {people} {'person' if people == 1 else 'people'} other than the requester and the "
                    "principal can give them: this ticket could never be approved; ask an admin to fix the rule",
                    field="targets",
                )


async def requestable_rights() -> set[Right]:
    """Everyone who may request each permission set on each account for themself, by the
    rules in the database now (a permission set group's members count one by one)."""
    directory = await load_directory()
    names = {v: k for k, v in directory.user_ids.items()}
    members: dict[str, set[str]] = defaultdict(set)
    for user, group in directory.memberships:
        members[group].add(user)
    accounts = await live(Account).values_list("id", "name", "ou_path")
    rights: set[Right] = set()
    for rule in await ApprovalRule.all():
        users = {directory.user_ids[u] for u in rule.requester_users if u in directory.user_ids}
        for g in rule.requester_groups:
            users |= members.get(directory.group_ids.get(g, ""), set())
        ids = {directory.account_ids[a] for a in rule.accounts if a in directory.account_ids}
        ous = [directory.ou_ids[o] for o in rule.organizational_units if o in directory.ou_ids]
        places = [name for acc_id, name, path in accounts
                  if acc_id in ids or any(f"/{ou}/" in path for ou in ous)]
        sets = set(rule.permission_sets)
        for group in rule.permission_set_groups or []:
            sets |= set(directory.permission_set_groups.get(group, []))
        sets &= set(directory.permission_set_arns)
        rights |= {(names[u], place, ps) for u in users for place in places for ps in sets}
    return rights


def summarize(rights: set[Right]) -> list[str]:
    """`alice: ReadOnlyAccess on payments-dev, payments-prod`, one line per user and permission set."""
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for user, account, ps in rights:
        grouped[(user, ps)].append(account)
    return [f"{user}: {ps} on {', '.join(sorted(accounts))}" for (user, ps), accounts in sorted(grouped.items())]


@dataclass
class RulesPlan:
    groups: dict[str, list[str]]
    rules: dict[str, list[str]]
    gains: list[str] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"permission_set_groups": self.groups, "rules": self.rules, "gains": self.gains,
                "losses": self.losses, "warnings": self.warnings}


class _Rollback(Exception):
    pass


async def plan_rules_file(rt: Runtime, text: str, prune: bool = False) -> RulesPlan:
    """What `apply_rules_file(text, prune)` would do, with nothing written."""
    plan: RulesPlan | None = None
    try:
        async with in_transaction():
            before = await requestable_rights()
            result = await apply_rules_file(rt, text, actor_id=None, prune=prune)
            after = await requestable_rights()
            directory = await load_directory()
            warnings = [w for rule in await ApprovalRule.all().order_by("name")
                        for w in step_warnings(rule.name, rule.spec.steps, directory)]
            g, r = result.groups, result.rules
            plan = RulesPlan(
                groups={"create": g.created, "update": g.updated, "delete": g.deleted},
                rules={"create": r.created, "update": r.updated, "unchanged": r.unchanged, "delete": r.deleted},
                gains=summarize(after - before), losses=summarize(before - after), warnings=warnings,
            )
            raise _Rollback
    except _Rollback:
        pass
    assert plan is not None
    return plan


async def file_warnings(text: str) -> list[str]:
    """The unmeetable steps of the rules in a file, against the directory as synced."""
    directory = await load_directory()
    return [w for spec in load_rules_yaml(text) for w in step_warnings(spec.name, spec.steps, directory)]
