"""The deployment's AWS budget (jit.aws.budget) on a real Redis: one bucket for every
process, revokes before reads, outstanding writes counted until AWS settles them, and a
process of its own when Redis is gone."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from redis.asyncio import Redis

from jit.aws.budget import AwsBudget, BudgetLimits, Priority, aws_priority
from jit.aws.clients import AwsClients
from jit.demo.embedded import free_port


@pytest.fixture
async def redis(arq_redis):
    return arq_redis


def budget(redis, rate=4.0, outstanding=5) -> AwsBudget:
    return AwsBudget(redis, BudgetLimits(rate=rate, max_outstanding=outstanding))


async def ask(b: AwsBudget, priority: Priority, member: str = "m") -> int:
    """One attempt at a token: 0 if taken, else the wait the budget asks for (ms)."""
    return int(await b._take(keys=[b._bucket, *b._waiters],
                             args=[b.limits.rate, b.limits.burst, int(priority), member, b.limits.read_reserve, 250]))


async def test_one_bucket_for_every_process(redis, redis_url):
    other = Redis.from_url(redis_url)
    try:
        first, second = budget(redis), budget(other)
        # A burst of 4: two processes share it, the fifth call waits whoever makes it.
        assert [await ask(first, Priority.REVOKE), await ask(second, Priority.REVOKE),
                await ask(first, Priority.REVOKE), await ask(second, Priority.REVOKE)] == [0, 0, 0, 0]
        wait = await ask(second, Priority.REVOKE)
        assert 0 < wait <= 1000 / 4 + 10
    finally:
        await other.aclose()


async def test_reads_leave_a_reserve_that_revokes_may_spend(redis):
    b = budget(redis)  # burst 4, reads keep 1 back
    assert [await ask(b, Priority.READ) for _ in range(3)] == [0, 0, 0]
    assert await ask(b, Priority.READ) > 0
    assert await ask(b, Priority.REVOKE) == 0


async def test_a_budget_of_one_call_a_second_still_lets_reads_through(redis):
    b = budget(redis, rate=1.0)  # a bucket of one token has no room for a reserve
    assert await ask(b, Priority.READ) == 0


async def test_a_waiting_revoke_holds_back_reads_and_grants(redis):
    b = budget(redis, rate=1.0)
    assert await ask(b, Priority.REVOKE) == 0
    # The bucket is empty: the revoke registers as waiting...
    assert await ask(b, Priority.REVOKE, "revoke") > 0
    await asyncio.sleep(1.05)  # a token is back
    # ...so the refilled token is not taken by a grant or a read while the revoke waits.
    assert await ask(b, Priority.GRANT, "grant") > 0
    assert await ask(b, Priority.READ, "read") > 0
    assert await ask(b, Priority.REVOKE, "revoke") == 0


async def test_spend_waits_for_the_next_token(redis):
    b = budget(redis, rate=10.0)
    for _ in range(10):
        await b.spend(Priority.GRANT)
    waited = await b.spend(Priority.GRANT)
    assert waited > 0.02  # the eleventh call of a 10-per-second budget waited for a token


async def test_outstanding_writes_are_capped_and_revokes_keep_a_slot(redis):
    b = budget(redis, outstanding=5)  # one slot only revokes may take
    keys = [b._outstanding, *b._slot_waiters]

    async def acquire(priority: Priority, member: str) -> int:
        return int(await b._acquire(keys=keys, args=[5, int(priority), member, 60_000, b.limits.revoke_slots, 250]))

    assert [await acquire(Priority.GRANT, f"g{i}") for i in range(4)] == [0, 0, 0, 0]
    assert await acquire(Priority.GRANT, "g5") > 0
    assert await acquire(Priority.REVOKE, "r1") == 0
    assert await acquire(Priority.REVOKE, "r2") > 0  # 5 outstanding: AWS would refuse a sixth
    assert await b.outstanding() == 5
    await b.release_write("g0")
    assert await acquire(Priority.REVOKE, "r2") == 0


async def test_a_write_holds_its_slot_until_aws_settles_it(redis):
    b = budget(redis, outstanding=2)
    slot = await b.acquire_write(Priority.REVOKE)
    b.bind("request-1", slot)
    assert await b.outstanding() == 1
    await b.settled("request-1")
    assert await b.outstanding() == 0


async def test_without_redis_each_process_keeps_a_share_of_its_own():
    gone = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2)
    try:
        b = AwsBudget(gone, BudgetLimits(rate=8.0, max_outstanding=8))
        await b.spend(Priority.REVOKE)  # does not fail: revokes go on
        assert b.degraded and b.status()["mode"] == "local"
        assert b.status()["rate"] == 2.0 and b.status()["max_outstanding"] == 2
        slots = [await b.acquire_write(Priority.REVOKE) for _ in range(2)]
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(b.acquire_write(Priority.REVOKE), 0.5)
        await b.release_write(slots[0])
        await asyncio.wait_for(b.acquire_write(Priority.REVOKE), 1)
    finally:
        await gone.aclose()


class CountingBudget(AwsBudget):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.spent: list[Priority] = []

    async def spend(self, priority: Priority | None = None) -> float:
        waited = await super().spend(priority)
        from jit.aws.budget import current_priority

        self.spent.append(current_priority() if priority is None else priority)
        return waited


async def test_every_sso_admin_call_spends_from_the_budget_at_its_priority(settings, redis):
    b = CountingBudget(redis, BudgetLimits(rate=5.0, max_outstanding=5))
    async with AwsClients(settings, budget=b) as aws:
        with aws_priority(Priority.REVOKE):
            async with aws.client("sso-admin") as sso:
                await sso.list_instances()
        async with aws.client("sso-admin") as sso:
            await sso.list_instances()
        async with aws.client("identitystore") as ids:  # other services are not this budget's
            await ids.list_users(IdentityStoreId="d-0000000000")
    assert b.spent == [Priority.REVOKE, Priority.READ]
    assert float(await redis.hget(b._bucket, "tokens")) < 4.5


@pytest.mark.parametrize("variable, value, message", [
    ("JIT_AWS_RATE_LIMIT", "0", "must be above 0"),
    ("JIT_AWS_RATE_LIMIT", "-3", "must be above 0"),
    ("JIT_AWS_RATE_LIMIT", "25", "at most 20"),
    ("JIT_AWS_MAX_OUTSTANDING", "16", "1 to 15"),
])
def test_a_misconfigured_budget_is_a_start_up_error(variable, value, message):
    done = subprocess.run([sys.executable, "-m", "jit.cli", "worker"], env={"PATH": "/usr/bin:/bin", variable: value},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert variable in done.stderr and message in done.stderr
