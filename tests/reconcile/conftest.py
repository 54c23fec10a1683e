from __future__ import annotations

import pytest

from jit.aws.clients import AwsClients
from jit.tickets import stack
from tests.support.fault_proxy import FaultProxy


@pytest.fixture(scope="session")
def proxy(moto_url):
    p = FaultProxy(moto_url).start()
    yield p
    p.stop()


@pytest.fixture
def faulty(demo, proxy):
    """The world, with JIT's AWS calls going through the fault proxy."""
    proxy.reset()
    settings = demo.rt.settings.model_copy(update={"aws_endpoint_url": proxy.url})
    demo.rt.settings = settings
    demo.rt.aws = AwsClients(settings)
    return demo


def job_ctx(rt, job_try: int = 1) -> dict:
    """What arq passes a job function."""
    return {"runtime": rt, "redis": rt.redis, "job_try": job_try}


async def active_ticket(world, user="alice", account="sandbox-alice", ps="ReadOnlyAccess", duration=60):
    ticket = await world.request(user, [(account, ps)], duration=duration, justification="x")
    assert (await stack.grant(world.rt, str(ticket.id))).result == "granted"
    return ticket
