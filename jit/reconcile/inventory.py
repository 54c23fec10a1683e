"""What AWS holds for the accounts and permission sets JIT knows, at a cost set by what is
provisioned rather than by accounts × permission sets (docs/reliability.md, Drift).

An account assignment can only exist where its permission set is provisioned to its
account, so a scan first asks AWS for the provisioned pairs along the smaller dimension
(one ListAccountsForProvisionedPermissionSet per permission set, or one
ListPermissionSetsProvisionedToAccount per account), then lists the assignments of those
pairs only. Every call is spent at read priority, the lowest of the AWS budget, and
spaced by a `Pace` so a scan never bursts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from jit.aws.budget import Priority, aws_priority
from jit.reconcile.standing import AssignmentRef

Pair = tuple[str, str]  # (account id, permission set ARN)
# The most each of these list operations returns per page.
PAGE_SIZE = 100


class Pace:
    """Spaces calls evenly over `seconds`: each wait is the time left divided by the calls
    still expected, so a low first estimate speeds up later rather than overrunning.
    With 0 seconds it never waits (the AWS budget still applies)."""

    def __init__(self, seconds: float, expected_calls: int,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._sleep, self._monotonic = sleep, monotonic
        self._deadline = monotonic() + max(seconds, 0.0)
        self._remaining = max(expected_calls, 1)
        self._next_at = monotonic()

    def expect(self, calls: int) -> None:
        """From now on, `calls` more are expected."""
        self._remaining = max(calls, 1)

    async def __call__(self) -> None:
        now = self._monotonic()
        if self._next_at > now:
            await self._sleep(self._next_at - now)
            now = self._next_at
        self._next_at = now + max(self._deadline - now, 0.0) / self._remaining
        self._remaining = max(self._remaining - 1, 1)


def unpaced() -> Pace:
    return Pace(0.0, 1)


class Progress(Protocol):
    """Told as a scan moves; the scan's row (jit.reconcile.drift_scans) is one."""

    async def update(self, *, pairs_done: int, pairs_total: int, calls: int) -> None: ...


class NoProgress:
    async def update(self, *, pairs_done: int, pairs_total: int, calls: int) -> None:
        return None


@dataclass
class Reader:
    """sso-admin list calls, paced, counted and spent at read priority."""

    sso: Any
    instance_arn: str
    pace: Pace
    calls: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)

    async def pages(self, operation: str, items: str, **params: Any) -> AsyncIterator[list[Any]]:
        token: str | None = None
        while True:
            await self.pace()
            self.calls += 1
            self.by_operation[operation] = self.by_operation.get(operation, 0) + 1
            kwargs = {"InstanceArn": self.instance_arn, "MaxResults": PAGE_SIZE, **params}
            if token:
                kwargs["NextToken"] = token
            with aws_priority(Priority.READ):
                page = await getattr(self.sso, operation)(**kwargs)
            yield page.get(items, [])
            token = page.get("NextToken")
            if not token:
                return

    async def provisioned_pairs(self, accounts: list[str], permission_sets: list[str]) -> list[Pair]:
        """Pairs whose permission set is provisioned to the account, both known to JIT."""
        known_accounts, known_sets = set(accounts), set(permission_sets)
        pairs: list[Pair] = []
        if len(permission_sets) <= len(accounts):
            for arn in permission_sets:
                async for ids in self.pages("list_accounts_for_provisioned_permission_set", "AccountIds",
                                            PermissionSetArn=arn):
                    pairs.extend((account_id, arn) for account_id in ids if account_id in known_accounts)
        else:
            for account_id in accounts:
                async for arns in self.pages("list_permission_sets_provisioned_to_account", "PermissionSets",
                                             AccountId=account_id):
                    pairs.extend((account_id, arn) for arn in arns if arn in known_sets)
        return sorted(set(pairs))

    async def assignments(self, pair: Pair) -> set[AssignmentRef]:
        account_id, arn = pair
        found: set[AssignmentRef] = set()
        async for items in self.pages("list_account_assignments", "AccountAssignments",
                                      AccountId=account_id, PermissionSetArn=arn):
            found.update(AssignmentRef(account_id, arn, i["PrincipalType"], i["PrincipalId"]) for i in items)
        return found


@dataclass
class Inventory:
    held: set[AssignmentRef]
    pairs: list[Pair]


async def read(reader: Reader, accounts: list[str], permission_sets: list[str],
               progress: Progress) -> Inventory:
    """Every assignment AWS holds on the known accounts and permission sets."""
    await progress.update(pairs_done=0, pairs_total=0, calls=reader.calls)
    pairs = await reader.provisioned_pairs(accounts, permission_sets)
    reader.pace.expect(len(pairs))
    await progress.update(pairs_done=0, pairs_total=len(pairs), calls=reader.calls)
    held: set[AssignmentRef] = set()
    for done, pair in enumerate(pairs, start=1):
        held |= await reader.assignments(pair)
        await progress.update(pairs_done=done, pairs_total=len(pairs), calls=reader.calls)
    return Inventory(held=held, pairs=pairs)
