"""What a person may request: the targets their approval rules allow, each with its strictest rule.

Rules grant requests on scopes (an account, or an OU with its nested OUs) times permission
sets. At 5,000 accounts and 500 permission sets that cross product is millions of targets,
so callers page over the accounts in the database and expand targets only for the accounts
they show.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from jit.authz.service import Authorizer, strictness
from jit.directory.models import Account, PermissionSet
from jit.directory.queries import live
from jit.errors import ValidationFailed
from jit.rules.models import ApprovalRule, PermissionSetGroup, allows_alone
from jit.rules.service import resolve_ou

MAX_PAGE = 200
MAX_ACCOUNTS = 100


@dataclass(frozen=True)
class Choice:
    """One thing the wizard offers: a permission set, or a whole group, on an account."""

    account: Account
    permission_set: PermissionSet | None
    group: PermissionSetGroup | None
    rule: ApprovalRule  # the strictest rule that would govern the request
    max_duration_seconds: int
    justification_required: bool
    auto_approved: bool


@dataclass(frozen=True)
class AccountPage:
    accounts: list[Account]
    has_next_page: bool
    total_count: int


class Eligibility:
    """A person's request grants, indexed by scope so one account's targets cost only its own grants."""

    def __init__(self, grants: list[tuple[ApprovalRule, str, str]], sets: dict[str, PermissionSet]) -> None:
        self.sets = sets
        self.by_scope: dict[str, list[tuple[ApprovalRule, str]]] = defaultdict(list)
        for rule, scope, arn in grants:
            if arn in sets:  # a permission set removed from AWS is not requestable
                self.by_scope[scope].append((rule, arn))

    @classmethod
    async def of(cls, authz: Authorizer, user_id: str) -> Eligibility:
        grants = await authz.requestable(user_id)
        # Only the permission sets the grants name: reading all of them (500 in the
        # directory-scale benchmark) cost more than the rest of a page (docs/performance.md).
        arns = sorted({arn for _, _, arn in grants})
        sets = {p.arn: p for p in await live(PermissionSet).filter(arn__in=arns)} if arns else {}
        return cls(grants, sets)

    def accounts(self) -> QuerySet[Account] | None:
        """Live accounts at least one grant reaches, as a query; None when there are none."""
        covered = self.covered()
        return None if covered is None else live(Account).filter(covered)

    def covered(self) -> Q | None:
        """The accounts at least one grant reaches, as a filter; None when there are none."""
        if not self.by_scope:
            return None
        # Account ids are 12 digits; anything else in a scope is an OU id.
        account_ids = [s for s in self.by_scope if s.isdigit()]
        terms = [Q(ou_path__contains=f"/{s}/") for s in self.by_scope if not s.isdigit()]
        if account_ids:
            terms.append(Q(id__in=account_ids))
        return Q(*terms, join_type=Q.OR)

    def _best(self, account: Account, alone: bool = False) -> dict[str, ApprovalRule]:
        """Permission set arn -> the strictest rule that lets the person request it on `account`
        (with `alone`, by itself rather than as part of a group)."""
        scopes = [account.id, *(seg for seg in account.ou_path.split("/") if seg)]
        best: dict[str, ApprovalRule] = {}
        for scope in scopes:
            for rule, arn in self.by_scope.get(scope, ()):
                if alone and not allows_alone(rule, self.sets[arn].name, None):
                    continue
                if arn not in best or strictness(rule) > strictness(best[arn]):
                    best[arn] = rule
        return best

    def choices(self, accounts: list[Account], groups: list[PermissionSetGroup]) -> list[Choice]:
        by_name = {p.name: p.arn for p in self.sets.values()}
        singles: list[Choice] = []
        grouped: list[Choice] = []
        for account in accounts:
            best = self._best(account)
            for arn, rule in self._best(account, alone=True).items():
                singles.append(Choice(
                    account, self.sets[arn], None, rule, rule.max_duration_seconds,
                    rule.justification_required, not rule.steps,
                ))
            # A group is one choice on an account where every one of its permission sets is.
            for group in groups:
                arns = [by_name.get(n) for n in group.permission_sets]
                present = [a for a in arns if a is not None and a in best]
                if not arns or len(present) != len(arns):
                    continue
                rules = [best[a] for a in present]
                grouped.append(Choice(
                    account, None, group, max(rules, key=strictness),
                    min(r.max_duration_seconds for r in rules),
                    any(r.justification_required for r in rules), all(not r.steps for r in rules),
                ))
        singles.sort(key=lambda c: (c.account.name, c.account.id, c.permission_set.name if c.permission_set else ""))
        return singles + grouped


def cursor_of(account: Account) -> str:
    return base64.urlsafe_b64encode(json.dumps([account.name, account.id]).encode()).decode()


def _decode(cursor: str) -> tuple[str, str]:
    try:
        name, account_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if isinstance(name, str) and isinstance(account_id, str):
            return name, account_id
    except (ValueError, TypeError, UnicodeDecodeError):
        pass
    raise ValidationFailed("malformed cursor", field="after")


async def requestable_accounts(
    authz: Authorizer, user_id: str, *, search: str | None = None, ou_id: str | None = None,
    first: int = 50, after: str | None = None,
) -> AccountPage:
    """Accounts where `user_id` may request at least one target, by name, searched and paged in SQL."""
    if not 1 <= first <= MAX_PAGE:
        raise ValidationFailed(f"first must be between 1 and {MAX_PAGE}", field="first")
    position = _decode(after) if after else None
    query = (await Eligibility.of(authz, user_id)).accounts()
    if query is None:
        return AccountPage([], False, 0)
    if search and search.strip():
        text = search.strip()
        query = query.filter(Q(name__icontains=text) | Q(id__startswith=text))
    if ou_id:
        query = query.filter(ou_path__contains=f"/{await resolve_ou(ou_id, 'ouId')}/")
    total = await query.count()
    if position:
        name, account_id = position
        query = query.filter(Q(name__gt=name) | Q(name=name, id__gt=account_id))
    rows = await query.order_by("name", "id").limit(first + 1)
    return AccountPage(rows[:first], len(rows) > first, total)


async def requestable_targets(authz: Authorizer, user_id: str, account_ids: list[str] | None = None) -> list[Choice]:
    """The choices on the given accounts (at most MAX_ACCOUNTS), or on every account when None.

    The unbounded form suits small organizations and scripts; the console pages accounts
    with `requestable_accounts` and asks only for the ones on screen."""
    if account_ids is not None and len(account_ids) > MAX_ACCOUNTS:
        raise ValidationFailed(f"at most {MAX_ACCOUNTS} accounts at a time", field="accountIds")
    eligibility = await Eligibility.of(authz, user_id)
    query = eligibility.accounts()
    if query is None or account_ids == []:
        return []
    if account_ids is not None:
        query = query.filter(id__in=account_ids)
    accounts = await query.order_by("name", "id")
    groups = await PermissionSetGroup.all().order_by("name")
    return eligibility.choices(accounts, groups)
