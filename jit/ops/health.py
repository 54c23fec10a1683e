"""/healthz says the process serves; /readyz says it can do its work: the database, Redis
and AWS answer. A load balancer sends traffic only to ready replicas; an orchestrator
restarts a replica only when it is not live, so a database outage never restarts the API.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise import connections

from jit.runtime import Runtime

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 3.0


async def database(rt: Runtime) -> None:
    await connections.get("default").execute_query("SELECT 1")


async def redis(rt: Runtime) -> None:
    await rt.redis.ping()


class AwsCheck:
    """Reaches IAM Identity Center with the credentials JIT uses. Remembered for a while,
    because probes arrive every few seconds from every replica and AWS throttles."""

    def __init__(self, remember_seconds: float) -> None:
        self.remember_seconds = remember_seconds
        self._until = 0.0

    async def __call__(self, rt: Runtime) -> None:
        if time.monotonic() < self._until:
            return
        async with rt.aws.client("sso-admin") as sso:
            await sso.list_instances(MaxResults=1)
        self._until = time.monotonic() + self.remember_seconds


Check = Callable[[Runtime], Awaitable[None]]


async def _run(name: str, check: Check, rt: Runtime) -> str:
    try:
        await asyncio.wait_for(check(rt), CHECK_TIMEOUT)
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        # The reason goes to the log; the probe's answer names no hosts or credentials.
        log.warning("readiness: %s unreachable: %s", name, type(exc).__name__, exc_info=True)
        return "unreachable"


Endpoint = Callable[[Request], Awaitable[JSONResponse]]


def probes(runtime: Callable[[], Runtime], aws_remember_seconds: float) -> tuple[Endpoint, Endpoint]:
    checks: dict[str, Check] = {"database": database, "redis": redis, "aws": AwsCheck(aws_remember_seconds)}

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        rt = runtime()
        names = list(checks)
        outcomes = await asyncio.gather(*(_run(n, checks[n], rt) for n in names))
        results = dict(zip(names, outcomes, strict=True))
        ready = all(v == "ok" for v in results.values())
        # Not a readiness condition: without Redis the process keeps to its own share of
        # the AWS budget and revokes go on; but an operator should see it.
        budget = rt.aws.budget.status(results["redis"] == "ok") if rt.aws.budget is not None else None
        return JSONResponse({"status": "ready" if ready else "not ready", "checks": results,
                             "aws_budget": budget}, status_code=200 if ready else 503)

    return healthz, readyz
