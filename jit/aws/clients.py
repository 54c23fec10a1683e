"""Builds aioboto3 clients. The only place that knows about endpoints and credentials.

With `JIT_AWS_ENDPOINT_URL` unset the default credential chain and real AWS endpoints are
used; the demo and the tests point it at moto in server mode.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aioboto3
from botocore.config import Config

from jit.aws.budget import AwsBudget
from jit.config import Settings
from jit.ops.metrics import count_aws_error

# Throttling and transient errors are retried by botocore with exponential backoff and
# jitter. Not "adaptive": its client-side rate limiter lives in the client, and a worker's
# jobs now share one client, so one throttled call slowed every grant and revoke of the
# process (the fault suite's throttling-30 scenario: 53 of 100 tickets missed their window).
# The pool is sized for a worker's concurrent jobs sharing one client.
_RETRIES = Config(retries={"mode": "standard", "max_attempts": 10}, connect_timeout=10, read_timeout=30,
                  max_pool_connections=50)
# sso-admin calls on the grant and revoke paths go through jit.aws.assignments, which retries
# throttling itself with a capped, jittered backoff. Ten botocore attempts under it waited up
# to 20 s each, so one unlucky delete outlived the revoke bound (throttling-30: 22.8 s); two
# quick botocore retries (at most 1 s and 2 s) and the outer loop's cap keep the tail short.
# Other callers (directory sync, drift scans) keep botocore's ten attempts.
_QUICK_RETRIES = _RETRIES.merge(Config(retries={"mode": "standard", "max_attempts": 3}))


class AwsClients:
    """Opens one client per service and event loop and keeps it: building a client and a
    fresh TLS connection per call cost more than the call itself on the grant path
    (docs/performance.md). A client belongs to the loop it was made on, hence the key."""

    def __init__(self, settings: Settings, budget: AwsBudget | None = None) -> None:
        self._settings = settings
        # Every sso-admin call spends from it (jit.aws.budget); the Runtime attaches the
        # deployment's shared one. None: calls are not budgeted (one-shot tools).
        self.budget = budget
        self._session = aioboto3.Session()
        self._open: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[AsyncExitStack, dict[tuple[str, bool], Any]]] = (
            weakref.WeakKeyDictionary()
        )

    @asynccontextmanager
    async def client(self, service: str, *, caller_retries: bool = False) -> AsyncIterator[Any]:
        """This loop's client for `service`. `caller_retries`: the caller retries throttling
        itself, so botocore makes two quick retries only."""
        loop = asyncio.get_running_loop()
        stack, clients = self._open.setdefault(loop, (AsyncExitStack(), {}))
        name = (service, caller_retries)
        client = clients.get(name)
        if client is None:
            kwargs = self._kwargs()
            if caller_retries:
                kwargs["config"] = _QUICK_RETRIES
            opened = await stack.enter_async_context(self._session.client(service, **kwargs))
            # First in line, so every attempt is seen before botocore decides to retry it.
            opened.meta.events.register_first("needs-retry", _count_errors)
            self._budgeted(service, opened)
            # Two first callers may both open one; the spare is closed with the rest.
            clients.setdefault(name, opened)
            client = opened
        yield client

    @asynccontextmanager
    async def client_as(
        self, service: str, *, credentials: dict[str, str] | None = None, region: str | None = None,
        endpoint_url: str | None = None,
    ) -> AsyncIterator[Any]:
        """A client with other credentials (a role assumed in a member account), region or
        endpoint (a CloudTrail- or Logs-compatible service); unset parts are as `client`."""
        kwargs = self._kwargs(region, endpoint_url)
        if credentials:
            kwargs.update(
                aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials.get("SessionToken"),
            )
        async with self._session.client(service, **kwargs) as client:
            client.meta.events.register_first("needs-retry", _count_errors)
            self._budgeted(service, client)
            yield client

    def _budgeted(self, service: str, client: Any) -> None:
        """Every attempt of every sso-admin call (botocore's retries included: AWS counts
        them too) waits for a token of the budget, at the caller's `aws_priority`."""
        if service != "sso-admin":
            return

        async def spend(**_: Any) -> None:
            if self.budget is not None:
                await self.budget.spend()

        client.meta.events.register("before-send.sso-admin", spend)

    def _kwargs(self, region: str | None = None, endpoint_url: str | None = None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"region_name": region or self._settings.aws_region, "config": _RETRIES}
        endpoint = endpoint_url or self._settings.aws_endpoint_url
        if endpoint:
            kwargs["endpoint_url"] = endpoint
        return kwargs

    async def __aenter__(self) -> AwsClients:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes this loop's clients (a process exiting may skip it)."""
        opened = self._open.pop(asyncio.get_running_loop(), None)
        if opened is not None:
            await opened[0].aclose()


def _count_errors(response: tuple[Any, dict[str, Any] | None] | None = None, operation: Any = None,
                  caught_exception: BaseException | None = None, **_: Any) -> None:
    """Counts each AWS error response (and each failed connection) by code; returns None
    so botocore's own retry handler still decides."""
    if operation is None:
        return None
    service = operation.service_model.service_id.hyphenize()
    if caught_exception is not None:
        count_aws_error(service, operation.name, type(caught_exception).__name__)
    elif response is not None:
        error = (response[1] or {}).get("Error") or {}
        if error.get("Code") or (response[0] is not None and response[0].status_code >= 400):
            count_aws_error(service, operation.name, str(error.get("Code") or response[0].status_code))
    return None
