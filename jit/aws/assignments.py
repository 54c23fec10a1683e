"""IAM Identity Center account assignments: create, delete, look up, and wait.

AWS answers create and delete with a request that is IN_PROGRESS; only the status call
tells success from failure, so every call here is followed by polling.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from botocore.exceptions import ClientError

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


class AssignmentTimeout(Exception):
    """The request is still IN_PROGRESS after the poll timeout."""


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


class Assignments:
    def __init__(self, aws: AwsClients, poll_interval: float, poll_timeout: float, first_poll: float = 0.05) -> None:
        self._aws = aws
        self._poll_interval = poll_interval
        self._poll_timeout = poll_timeout
        self._first_poll = min(first_poll, poll_interval)

    async def _call(self, operation: str, **params) -> dict:
        async def call() -> dict:
            async with self._aws.client("sso-admin", caller_retries=True) as sso:
                return await getattr(sso, operation)(**params)

        return await _retrying(call)

    async def exists(self, key: AssignmentKey) -> bool:
        async def look() -> bool:
            async with self._aws.client("sso-admin", caller_retries=True) as sso:
                paginator = sso.get_paginator("list_account_assignments")
                async for page in paginator.paginate(
                    InstanceArn=key.instance_arn, AccountId=key.account_id, PermissionSetArn=key.permission_set_arn
                ):
                    for item in page.get("AccountAssignments", []):
                        if item["PrincipalId"] == key.principal_id and item["PrincipalType"] == key.principal_type:
                            return True
            return False

        return await _retrying(look)

    async def create(self, key: AssignmentKey) -> RequestStatus:
        response = await self._call("create_account_assignment", **key.params())
        return _status(response["AccountAssignmentCreationStatus"])

    async def delete(self, key: AssignmentKey) -> RequestStatus:
        response = await self._call("delete_account_assignment", **key.params())
        return _status(response["AccountAssignmentDeletionStatus"])

    async def wait_created(self, instance_arn: str, request_id: str) -> RequestStatus:
        return await self._wait(
            "describe_account_assignment_creation_status",
            {"InstanceArn": instance_arn, "AccountAssignmentCreationRequestId": request_id},
            "AccountAssignmentCreationStatus",
        )

    async def wait_deleted(self, instance_arn: str, request_id: str) -> RequestStatus:
        return await self._wait(
            "describe_account_assignment_deletion_status",
            {"InstanceArn": instance_arn, "AccountAssignmentDeletionRequestId": request_id},
            "AccountAssignmentDeletionStatus",
        )

    async def _wait(self, operation: str, params: dict, key: str) -> RequestStatus:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._poll_timeout
        # Most requests settle within a second or two: look early, then back off.
        delay = self._first_poll
        while True:
            status = _status((await self._call(operation, **params))[key])
            if status.status != "IN_PROGRESS":
                return status
            if loop.time() + delay > deadline:
                raise AssignmentTimeout(f"{operation} {status.request_id} still IN_PROGRESS")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10 * self._poll_interval)


def _status(data: dict) -> RequestStatus:
    return RequestStatus(data.get("RequestId"), data.get("Status", "IN_PROGRESS"), data.get("FailureReason"))
