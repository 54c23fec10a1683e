"""IAM Identity Center account assignments: create, delete, look up, and wait.

AWS answers create and delete with a request that is IN_PROGRESS; only the status call
tells success from failure, so every call here is followed by polling. Every call spends
from the deployment's AWS budget (jit.aws.budget) at the caller's priority, and every
create and delete holds one of the budget's outstanding-write slots until AWS settles it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from jit.aws.budget import AwsBudget, Priority, aws_priority
from jit.aws.clients import AwsClients
from jit.aws.errors import RETRYABLE

T = TypeVar("T")


@dataclass(frozen=True)
class AssignmentKey:
    instance_arn: str
    account_id: str
    permission_set_arn: str
    principal_id: str
    principal_type: str = "USER"

    def params(self) -> dict[str, str]:
        return {
            "InstanceArn": self.instance_arn,
            "TargetId": self.account_id,
            "TargetType": "AWS_ACCOUNT",
            "PermissionSetArn": self.permission_set_arn,
            "PrincipalType": self.principal_type,
            "PrincipalId": self.principal_id,
        }


@dataclass(frozen=True)
class RequestStatus:
    request_id: str | None
    status: str  # IN_PROGRESS | SUCCEEDED | FAILED
    failure_reason: str | None = None
    not_found: bool = False  # a delete of an assignment that was not there


class AssignmentTimeout(Exception):
    """The request is still IN_PROGRESS after the poll timeout."""


@dataclass
class SettleTime:
    """How long AWS takes to settle one kind of request, learned from the polls themselves.

    Two quantiles are tracked by stochastic approximation on what each poll saw (settled
    or not): `median`, where a revoke looks first, and `high` (about the 95th
    percentile), where a revoke looks second and a grant looks first and almost always
    last. A poll costs a call of the budget; looking at 50 ms and doubling spent five or
    six calls on a request that takes two seconds."""

    median: float
    high: float
    floor: float = 0.05
    ceiling: float = 60.0
    # How long a request held its outstanding-write slot, from the call until a poll saw
    # it settle (a moving average), and over how many requests: what bounds writes a
    # second in a burst (jit.tickets.plan).
    held: float | None = None
    held_count: int = 0
    median_seen: int = 0  # looks at the median so far

    def saw_held(self, seconds: float) -> None:
        self.held = seconds if self.held is None else self.held + 0.1 * (seconds - self.held)
        self.held_count += 1

    def learn_from(self, other: SettleTime) -> None:
        """Starts from what another request type has shown: AWS settles creates and deletes
        alike, and a burst of revokes is planned before its first delete was seen."""
        self.median, self.high, self.held, self.held_count = other.median, other.high, other.held, other.held_count

    def _step(self) -> float:
        return max(self.floor, self.median) * 0.1

    def saw_at_median(self, settled: bool) -> None:
        self.median_seen += 1
        self.median += self._step() * (-0.5 if settled else 0.5)
        self.median = min(max(self.median, self.floor), self.ceiling)
        self.high = max(self.high, self.median + self.floor)

    def saw_at_high(self, settled: bool) -> None:
        self.high += self._step() * (-0.05 if settled else 0.95)
        self.high = min(max(self.high, self.median + self.floor, self.floor), self.ceiling)

    @property
    def spacing(self) -> float:
        """Between looks after the second: half the median, at least the floor."""
        return max(self.floor, self.median / 2)


@dataclass
class SettleTimes:
    create: SettleTime
    delete: SettleTime

    @classmethod
    def starting_at(cls, first: float, floor: float) -> SettleTimes:
        # AWS: "a second or more"; until polls say otherwise, look at `first` and at 3x it.
        return cls(SettleTime(first, first * 3, floor), SettleTime(first, first * 3, floor))


EXPLORE = 20  # creates that look at the median too, per process
_ATTEMPTS = 8
_CEILING_CAP = 4.0


async def _retrying(call: Callable[[], Awaitable[T]]) -> T:
    """Runs an sso-admin call, retrying conflicts and transient faults (throttling above
    all) with full-jitter backoff on top of botocore's two quick retries, the ceiling capped
    at 4 s so a throttled revoke stays within seconds of its due time. A create or delete
    that timed out on the wire may have reached AWS; callers look at AWS (`exists`) before
    repeating one."""
    ceiling = 0.5
    for attempt in range(_ATTEMPTS):
        try:
            return await call()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in RETRYABLE or attempt == _ATTEMPTS - 1:
                raise
        # Full jitter: many workers retrying one throttled API spread out.
        await asyncio.sleep(random.uniform(ceiling / 4, ceiling))
        ceiling = min(ceiling * 2, _CEILING_CAP)
    raise AssertionError("unreachable")


@dataclass
class Assignments:
    aws: AwsClients
    settle: SettleTimes
    poll_timeout: float

    @property
    def _budget(self) -> AwsBudget | None:
        return self.aws.budget

    async def _call(self, operation: str, priority: Priority, **params: Any) -> dict[str, Any]:
        async def call() -> dict[str, Any]:
            with aws_priority(priority):
                async with self.aws.client("sso-admin", caller_retries=True) as sso:
                    response: dict[str, Any] = await getattr(sso, operation)(**params)
                    return response

        return await _retrying(call)

    async def exists(self, key: AssignmentKey, priority: Priority = Priority.READ) -> bool:
        async def look() -> bool:
            with aws_priority(priority):
                async with self.aws.client("sso-admin", caller_retries=True) as sso:
                    paginator = sso.get_paginator("list_account_assignments")
                    async for page in paginator.paginate(
                        InstanceArn=key.instance_arn, AccountId=key.account_id,
                        PermissionSetArn=key.permission_set_arn,
                    ):
                        for item in page.get("AccountAssignments", []):
                            if item["PrincipalId"] == key.principal_id and item["PrincipalType"] == key.principal_type:
                                return True
            return False

        return await _retrying(look)

    async def _write(self, operation: str, result_key: str, key: AssignmentKey, priority: Priority) -> RequestStatus:
        """A create or delete, holding an outstanding-write slot from before the call until
        AWS settles it (released by `_wait`, or here when it settled or failed at once)."""
        budget = self._budget
        slot = await budget.acquire_write(priority) if budget is not None else None
        try:
            response = await self._call(operation, priority, **key.params())
        except BaseException:
            if slot is not None and budget is not None:
                await budget.release_write(slot)
            raise
        status = _status(response[result_key])
        if slot is not None and budget is not None:
            if status.status == "IN_PROGRESS" and status.request_id:
                budget.bind(status.request_id, slot)
            else:
                await budget.release_write(slot)
        return status

    async def create(self, key: AssignmentKey) -> RequestStatus:
        return await self._write("create_account_assignment", "AccountAssignmentCreationStatus", key, Priority.GRANT)

    async def delete(self, key: AssignmentKey, priority: Priority = Priority.REVOKE) -> RequestStatus:
        """Deletes without looking first: an assignment that is not there answers
        ResourceNotFoundException (`not_found`), which costs the same one call as a look."""
        try:
            return await self._write("delete_account_assignment", "AccountAssignmentDeletionStatus", key, priority)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return RequestStatus(None, "SUCCEEDED", "not found", not_found=True)
            raise

    async def wait_created(self, instance_arn: str, request_id: str) -> RequestStatus:
        # A grant looks once, when AWS has almost surely finished: one status call per
        # create, for a second more of grant delay on average. The process's first creates
        # look at the median as well, as revokes do: what they learn is where the revokes
        # of a burst start from (the deletes' own figures replace it as they come).
        exploring = self.settle.create.median_seen < EXPLORE
        return await self._wait(
            "describe_account_assignment_creation_status",
            {"InstanceArn": instance_arn, "AccountAssignmentCreationRequestId": request_id},
            "AccountAssignmentCreationStatus", self.settle.create, look_first_at_high=not exploring,
        )

    async def wait_deleted(self, instance_arn: str, request_id: str) -> RequestStatus:
        if self.settle.delete.median_seen == 0 and self.settle.create.median_seen >= EXPLORE:
            self.settle.delete.learn_from(self.settle.create)
        # A revoke looks at the median too: the outstanding-write slot it holds until it
        # sees the delete settle is what bounds revokes a second in a burst (15 slots at
        # AWS), and looking at the median frees half of them a second sooner.
        return await self._wait(
            "describe_account_assignment_deletion_status",
            {"InstanceArn": instance_arn, "AccountAssignmentDeletionRequestId": request_id},
            "AccountAssignmentDeletionStatus", self.settle.delete, look_first_at_high=False,
        )

    async def _wait(self, operation: str, params: dict[str, Any], key: str, settle: SettleTime, *,
                    look_first_at_high: bool) -> RequestStatus:
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + self.poll_timeout
        request_id = request_id_of(params)
        holds_slot = self._budget is not None and request_id in self._budget.slots
        looks = [settle.high] if look_first_at_high else [settle.median, settle.high]
        learn = [settle.saw_at_high] if look_first_at_high else [settle.saw_at_median, settle.saw_at_high]
        look = 0
        while True:
            at = started + looks[look] if look < len(looks) else loop.time() + settle.spacing
            if at > deadline:
                raise AssignmentTimeout(f"{operation} {request_id} still IN_PROGRESS")
            await asyncio.sleep(max(at - loop.time(), 0))
            status = _status((await self._call(operation, Priority.POLL, **params))[key])
            settled = status.status != "IN_PROGRESS"
            if look < len(learn):
                learn[look](settled)
            look += 1
            if settled:
                if holds_slot and not look_first_at_high:  # a slot held under the revokes' way of looking
                    settle.saw_held(loop.time() - started)
                if self._budget is not None:
                    await self._budget.settled(request_id)
                return status


def request_id_of(params: dict[str, Any]) -> str:
    request_id: str = next(iter(v for k, v in params.items() if k.endswith("RequestId")))
    return request_id


def _status(data: dict[str, Any]) -> RequestStatus:
    return RequestStatus(data.get("RequestId"), data.get("Status", "IN_PROGRESS"), data.get("FailureReason"))
