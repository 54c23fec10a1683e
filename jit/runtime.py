"""The dependencies every service call needs, built once per process and passed in."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from arq.connections import ArqRedis
from tortoise.transactions import in_transaction

from jit.auth.live import OpenCredentials, announce
from jit.auth.service import CredentialChecks
from jit.authz.service import Authorizer
from jit.aws.assignments import SettleTimes
from jit.aws.budget import AwsBudget, BudgetLimits
from jit.aws.clients import AwsClients
from jit.aws.identity_center import IdentityCenter, discover
from jit.clock import Clock
from jit.config import Settings
from jit.events.bus import TicketEvent, publish
from jit.events.hub import TicketEventHub

log = logging.getLogger(__name__)


@dataclass
class JobRequest:
    function: str
    args: tuple[Any, ...]
    job_id: str
    defer_until: datetime | None = None


@dataclass
class Effects:
    """What a unit of work wants done once, and only if, its transaction commits."""

    jobs: list[JobRequest] = field(default_factory=list)
    events: list[TicketEvent] = field(default_factory=list)

    def enqueue(self, function: str, *args: Any, job_id: str, defer_until: datetime | None = None) -> None:
        self.jobs.append(JobRequest(function, args, job_id, defer_until))

    def publish(self, event: TicketEvent) -> None:
        self.events.append(event)


def budget_limits(settings: Settings) -> BudgetLimits:
    return BudgetLimits(rate=settings.aws_rate_limit, max_outstanding=settings.aws_max_outstanding)


class _NoRedis:
    """The Redis of an offline runtime (`Runtime.offline`): any use is a bug, said plainly."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"this runtime is offline (a one-shot tool's): it has no Redis for {name!r}")


@dataclass
class Runtime:
    """What a service is given (every service takes `rt`). Built once per process by the API,
    the worker and the CLI; `Runtime.offline` serves one-shot tools that need neither Redis
    nor AWS (applying a rules file, seeding the demo)."""

    settings: Settings
    clock: Clock
    aws: AwsClients
    authz: Authorizer
    redis: ArqRedis
    _identity_center: IdentityCenter | None = None
    _event_hub: TicketEventHub | None = None
    _credential_checks: CredentialChecks | None = None
    _open_credentials: OpenCredentials | None = None
    _settle_times: SettleTimes | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.redis, _NoRedis):
            self.budget  # noqa: B018 - attach the deployment's budget to the clients now

    @classmethod
    def offline(cls, settings: Settings, clock: Clock, aws: AwsClients | None = None) -> Runtime:
        """A runtime without Redis, for one-shot tools: with AWS clients that are never opened
        unless `aws` is given. A job it is asked to queue is left to the reconciler, as when
        Redis is down (`flush` logs it); any other use of Redis raises."""
        return cls(settings=settings, clock=clock, aws=aws or AwsClients(settings), authz=Authorizer(settings),
                   redis=cast(ArqRedis, _NoRedis()))

    @property
    def budget(self) -> AwsBudget:
        """The deployment's AWS budget, attached to whichever clients this runtime has."""
        if self.aws.budget is None:
            self.aws.budget = AwsBudget(self.redis, budget_limits(self.settings))
        return self.aws.budget

    def settle_times(self) -> SettleTimes:
        """How long AWS takes to settle creates and deletes, as this process has seen."""
        if self._settle_times is None:
            self._settle_times = SettleTimes.starting_at(
                self.settings.assignment_first_poll, self.settings.assignment_poll_interval)
        return self._settle_times

    def event_hub(self) -> TicketEventHub:
        """This process's one Redis subscription for live ticket events (API only)."""
        if self._event_hub is None:
            self._event_hub = TicketEventHub(self.redis)
        return self._event_hub

    def credential_checks(self) -> CredentialChecks:
        """Open websockets' token and session checks, batched per turn of the loop (API only)."""
        if self._credential_checks is None:
            self._credential_checks = CredentialChecks(self.settings, self.clock)
        return self._credential_checks

    def open_credentials(self) -> OpenCredentials:
        """This process's open websockets by credential, and their cached checks (API only)."""
        if self._open_credentials is None:
            self._open_credentials = OpenCredentials(self.redis, self.credential_checks(), self.settings, self.clock)
        return self._open_credentials

    async def credentials_ended(self, tokens: list[int] | tuple[int, ...] = (),
                                sessions: list[int] | tuple[int, ...] = ()) -> None:
        """After the commit that ended them: close their sockets here, and tell every replica."""
        if self._open_credentials is not None:
            self._open_credentials.ended(list(tokens), list(sessions))
        if not isinstance(self.redis, _NoRedis):
            try:
                await announce(self.redis, tokens, sessions)
            except Exception:  # noqa: BLE001 - each replica's recheck still closes them within its interval
                log.exception("could not announce ended credentials %s / sessions %s", tokens, sessions)

    async def identity_center(self) -> IdentityCenter:
        if self._identity_center is None:
            self._identity_center = await discover(self.settings, self.aws)
        return self._identity_center

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[Effects]:
        """One transaction; its jobs are enqueued and its events published after commit.

        If Redis is unavailable at that moment the change still stands: the reconciler
        re-creates due jobs from the database, and subscribers re-read on reconnect."""
        effects = Effects()
        async with in_transaction():
            yield effects
        await self.flush(effects)

    async def flush(self, effects: Effects) -> None:
        for job in effects.jobs:
            try:
                queued = await self.redis.enqueue_job(
                    job.function, *job.args, _job_id=job.job_id, _defer_until=job.defer_until
                )
                if queued is None:
                    # arq refuses an id that is queued, running, or kept as a result.
                    log.info("job %s is already queued or done", job.job_id)
            except Exception:  # noqa: BLE001 - the reconciler re-creates due jobs
                log.exception("could not enqueue %s; the reconciler will", job.job_id)
        for event in effects.events:
            try:
                await publish(self.redis, event)
            except Exception:  # noqa: BLE001
                log.exception("could not publish event for ticket %s", event.ticket_id)
