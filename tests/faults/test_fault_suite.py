"""`make test-faults`: the promise that no access outlives its ticket by more than the
stated bound, checked against real processes with faults injected.

Each scenario requests at least 100 short tickets over GraphQL, injects its fault while
they are granted and revoked, and then asks an independent boto3 client (straight to
moto) what is left. The table goes to stdout, bench/results/faults.json and
docs/reliability.md (by hand).
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

import boto3
import pytest
import redis

from tests.faults.harness import (
    REQUESTERS,
    SANDBOX,
    SETS,
    Cluster,
    Result,
    distinct_plans,
    overlapping_plans,
    run_scenario,
    table,
)

pytestmark = pytest.mark.slow
RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "faults.json"
TICKETS = 100


@pytest.fixture(scope="module")
def cluster():
    # Not under pytest's tmp dir: that is private to root, and PostgreSQL runs as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="jit-faults-"))
    root.chmod(0o755)
    c = Cluster(root)
    try:
        c.start()
        yield c
    finally:
        c.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def results():
    collected: list[Result] = []
    yield collected
    if collected:
        order = [s for s, _ in SCENARIOS]
        collected.sort(key=lambda r: order.index(r.scenario) if r.scenario in order else 99)
        print("\n\nFault-injection suite\n" + table(collected))
        for r in collected:
            for note in r.notes:
                print(f"  {r.scenario}: {note}")
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps([asdict(r) | {"ok": r.ok} for r in collected], indent=2) + "\n")


async def _until(stop: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
        return True
    except TimeoutError:
        return False


async def sigkill_workers(cluster: Cluster, stop: asyncio.Event) -> None:
    while not await _until(stop, random.uniform(0.5, 2.0)):
        cluster.kill_worker()
    cluster.notes.append(f"{cluster.kills} workers SIGKILLed")


async def flushall(cluster: Cluster, stop: asyncio.Event) -> None:
    client = redis.Redis.from_url(cluster.redis.url)
    for wait in (3, 4, 5, 5, 5):
        if await _until(stop, wait):
            break
        client.flushall()
    client.close()


async def restart_redis(cluster: Cluster, stop: asyncio.Event) -> None:
    for wait in (5, 8):
        if await _until(stop, wait):
            break
        await asyncio.to_thread(cluster.redis.restart, 1.5)


async def restart_postgres(cluster: Cluster, stop: asyncio.Event) -> None:
    for wait in (5, 8):
        if await _until(stop, wait):
            break
        await asyncio.to_thread(cluster.pg.restart, 2.0)


async def throttle(cluster: Cluster, stop: asyncio.Event) -> None:
    cluster.proxy.faults.throttle_rate = 0.3
    await stop.wait()
    cluster.proxy.faults.throttle_rate = 0.0


async def conflict_bursts(cluster: Cluster, stop: asyncio.Event) -> None:
    while True:
        cluster.proxy.faults.conflict_rate = 0.9
        if await _until(stop, 1.0):
            break
        cluster.proxy.faults.conflict_rate = 0.0
        if await _until(stop, 2.0):
            break
    cluster.proxy.faults.conflict_rate = 0.0


async def slow_and_failing_deletes(cluster: Cluster, stop: asyncio.Event) -> None:
    """Every deletion stays IN_PROGRESS for 3 polls of 1.5 s, longer than the 4 s job
    timeout; for the first 8 s deletions in one account end FAILED."""
    f = cluster.proxy.faults
    f.deletion_latency, f.deletion_in_progress_polls = 1.5, 3
    f.fail_deletes = {cluster.org.accounts["sandbox-ml"]}
    await _until(stop, 8)
    f.fail_deletes = set()
    await stop.wait()
    f.deletion_latency, f.deletion_in_progress_polls = 0.0, 0


async def aws_quota(cluster: Cluster, stop: asyncio.Event) -> None:
    """IAM Identity Center's documented limits for the whole scenario: 20 sso-admin calls a
    second for everyone, 15 outstanding creates and deletes, each settling 1-3 s later."""
    cluster.proxy.quota(rate=20.0, burst=20, max_outstanding=15, settle=(1.0, 3.0), seed=10)
    await stop.wait()
    stats = cluster.proxy.stats()
    throttled = sum(sum(v.values()) for v in stats["throttled"].values())
    cluster.notes.append(f"quota mode: {sum(stats['calls'].values())} sso-admin calls, {throttled} throttled, "
                         f"at most {stats['max_outstanding_seen']} outstanding")
    cluster.proxy.quota(None)


async def nothing(cluster: Cluster, stop: asyncio.Event) -> None:
    await stop.wait()


SCENARIOS = [
    ("sigkill-workers", "SIGKILL a random worker every 0.5-2 s whenever both are up"),
    ("flushall", "FLUSHALL Redis 5 times with grants and revokes pending"),
    ("redis-restart", "restart Redis (no persistence) twice, down 1.5 s"),
    ("postgres-restart", "crash-restart PostgreSQL twice, down 2 s"),
    ("throttling-30", "30% of sso-admin calls throttled"),
    ("conflict-bursts", "ConflictException on 90% of creates/deletes, 1 s in every 3"),
    ("revoke-timeout", "deletions outlast the 4 s job timeout; IN_PROGRESS-then-FAILED deletes for 8 s"),
    ("overlapping", "5 overlapping tickets on each of 20 principal/account/permission set keys"),
    ("out-of-band", "20 assignments made directly in AWS; drift auto-removal on"),
    ("quota", "IAM Identity Center's limits: 20 calls/s, 15 outstanding writes, each settling in 1-3 s"),
]
FAULTS = {
    "sigkill-workers": (sigkill_workers, {}, 0.0),
    "flushall": (flushall, {}, 0.0),
    "redis-restart": (restart_redis, {}, 5.0),
    "postgres-restart": (restart_postgres, {}, 10.0),
    "throttling-30": (throttle, {}, 0.0),
    "conflict-bursts": (conflict_bursts, {}, 0.0),
    "revoke-timeout": (slow_and_failing_deletes, {"JIT_JOB_TIMEOUT": "4"}, 10.0),
    "overlapping": (nothing, {}, 0.0),
    # The product's polling defaults: the worker learns AWS's settle time from there.
    "quota": (aws_quota, {"JIT_ASSIGNMENT_FIRST_POLL": "1.0", "JIT_ASSIGNMENT_POLL_INTERVAL": "0.25"}, 0.0),
}


def _check(result: Result) -> None:
    assert result.tickets >= TICKETS
    assert result.leftover == 0, result
    assert result.missed == 0, result
    assert result.duplicates == 0, result
    assert result.max_lag <= result.bound, result


@pytest.mark.parametrize("name", [s for s, _ in SCENARIOS if s != "out-of-band"])
async def test_scenario(cluster, results, name):
    fault, env, extra = FAULTS[name]
    rng = random.Random(name)
    plans = overlapping_plans(20, 5, rng) if name == "overlapping" else distinct_plans(TICKETS, rng)
    result = await run_scenario(cluster, name, plans, fault, env=env, extra_bound=extra,
                                description=dict(SCENARIOS)[name])
    results.append(result)
    _check(result)


async def test_out_of_band_assignments(cluster, results):
    rng = random.Random("out-of-band")
    plans = distinct_plans(TICKETS, rng)
    used = [cluster.key(p) for p in plans]
    every = [(cluster.org.accounts[a], cluster.org.permission_sets[p], cluster.users[u])
             for u in REQUESTERS for a in SANDBOX for p in SETS]
    unused = [k for k in every if k not in set(used)]
    made = rng.sample(used, 10) + rng.sample(unused, 10)
    sso = boto3.client("sso-admin", endpoint_url=cluster.moto.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    for account, arn, user in made:
        sso.create_account_assignment(InstanceArn=cluster.org.instance_arn, TargetId=account, TargetType="AWS_ACCOUNT",
                                      PermissionSetArn=arn, PrincipalType="USER", PrincipalId=user)
    result = await run_scenario(
        cluster, "out-of-band", plans, nothing, env={"JIT_DRIFT_AUTO_REMOVE": "true", "JIT_DRIFT_INTERVAL": "3"},
        extra_bound=6.0, description=dict(SCENARIOS)["out-of-band"], out_of_band=made,
    )
    results.append(result)
    _check(result)
