"""One Redis database per deployment (jit/ops/deployment.py): two deployments, each on its
own database, pointed at one Redis database. The second is refused at start with an
error naming JIT_REDIS_URL, the Redis database and both deployment ids; the first keeps
its claim through restarts and flushes, and a worker whose database another deployment
took stops."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
import redis

from jit.demo.embedded import free_port
from jit.ops import deployment
from tests.support.live import database_for, server_env, stop_all, wait_healthy

# Every reconcile re-claims the Redis database; once a second keeps the test short.
RECONCILE_INTERVAL = "1"


@dataclass
class Deployment:
    database_url: str
    id: str


def _jit(command: str, database_url: str, redis_url: str, moto_url: str, log: Path,
         port: int | None = None) -> subprocess.Popen:
    env = server_env(database_url, redis_url, moto_url, port or free_port())
    env.update({"JIT_RECONCILE_INTERVAL": RECONCILE_INTERVAL, "JIT_SHUTDOWN_GRACE_SECONDS": "5",
                "JIT_SYNC_INTERVAL": "100000", "JIT_DRIFT_INTERVAL": "100000"})
    out = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "jit.cli", command], env=env, stdout=out, stderr=subprocess.STDOUT)


def _stored_id(database_url: str) -> str:
    async def read() -> str:
        conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
        try:
            return str(await conn.fetchval("SELECT deployment_id FROM deployment"))
        finally:
            await conn.close()

    return asyncio.run(read())


def _migrate(database_url: str) -> None:
    done = subprocess.run([sys.executable, "-m", "jit.cli", "migrate"], env={**os.environ, "JIT_DATABASE_URL": database_url},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def deployments(tmp_path_factory) -> tuple[Deployment, Deployment]:
    made = []
    for name in ("deployment_a", "deployment_b"):
        url = database_for(name, tmp_path_factory.mktemp(name))
        assert url.startswith("postgres"), "these tests need the suite's PostgreSQL"
        _migrate(url)
        made.append(Deployment(url, _stored_id(url)))
    assert made[0].id != made[1].id
    return made[0], made[1]


@pytest.fixture
def shared_redis(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def _until(predicate: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.1)


def _holder(client: redis.Redis) -> str | None:
    value = client.get(deployment.REDIS_KEY)
    return value.decode() if value is not None else None


def _exited(proc: subprocess.Popen, timeout: float = 60) -> int | None:
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        return None


def test_a_second_deployment_on_one_redis_database_is_refused_at_start(deployments, shared_redis, redis_url,
                                                                       moto_url, tmp_path):
    a, b = deployments
    running = [_jit("worker", a.database_url, redis_url, moto_url, tmp_path / "worker-a.log")]
    try:
        _until(lambda: _holder(shared_redis) == a.id, "the first deployment's worker claimed Redis")

        index = redis_url.rsplit("/", 1)[1]
        for command in ("worker", "serve"):
            log = tmp_path / f"{command}-b.log"
            proc = _jit(command, b.database_url, redis_url, moto_url, log)
            code = _exited(proc)
            if code is None:
                stop_all([proc])
            output = log.read_text()
            assert code not in (None, 0), f"`jit {command}` of a second deployment started:\n{output[-3000:]}"
            assert (f"JIT_REDIS_URL {redis_url} (Redis database {index}) is used by another JIT deployment "
                    f"(id {a.id}; this database's is {b.id})") in output, output[-3000:]
            assert "give each deployment its own Redis database index" in output

        # The same deployment starting again, or another replica of it, is at home there.
        _migrate(a.database_url)
        assert _stored_id(a.database_url) == a.id, "the deployment id never changes"
        port = free_port()
        running.append(_jit("serve", a.database_url, redis_url, moto_url, tmp_path / "serve-a.log", port))
        assert wait_healthy(f"http://127.0.0.1:{port}", running), (tmp_path / "serve-a.log").read_text()[-3000:]
        assert all(p.poll() is None for p in running)
        assert _holder(shared_redis) == a.id
    finally:
        stop_all(running)


def test_a_flushed_claim_is_made_again_and_a_worker_whose_redis_was_taken_stops(deployments, shared_redis,
                                                                                redis_url, moto_url, tmp_path):
    a, b = deployments
    log = tmp_path / "worker-a.log"
    worker = _jit("worker", a.database_url, redis_url, moto_url, log)
    try:
        _until(lambda: _holder(shared_redis) == a.id, "the worker claimed Redis")
        # Flushed under a running worker: its next reconcile claims the database again.
        shared_redis.flushdb()
        _until(lambda: _holder(shared_redis) == a.id, "the running worker claimed Redis again after the flush",
               timeout=30)

        # Another deployment claimed it meanwhile (after a flush, before this worker's
        # reconcile): every job this worker takes could be theirs, so it stops.
        shared_redis.set(deployment.REDIS_KEY, b.id)
        code = _exited(worker)
        output = log.read_text()
        assert code is not None, f"the worker kept running on another deployment's Redis:\n{output[-3000:]}"
        assert f"is used by another JIT deployment (id {b.id}; this database's is {a.id})" in output
        assert _holder(shared_redis) == b.id
    finally:
        stop_all([worker])


async def test_claim_writes_once_accepts_its_own_and_refuses_another(arq_redis, redis_url):
    assert await deployment.claim(arq_redis, redis_url, "deployment-1") is True
    assert await deployment.claim(arq_redis, redis_url, "deployment-1") is False
    with pytest.raises(deployment.SharedRedisDatabase) as refused:
        await deployment.claim(arq_redis, redis_url, "deployment-2")
    assert (refused.value.holder, refused.value.ours) == ("deployment-1", "deployment-2")

    # Only the claim's owner may give it up.
    assert await deployment.release(arq_redis, "deployment-2") is False
    assert await deployment.release(arq_redis, "deployment-1") is True
    assert await deployment.claim(arq_redis, redis_url, "deployment-2") is True


def test_the_error_keeps_the_redis_password_out():
    error = deployment.SharedRedisDatabase("redis://:s3cret@cache.internal:6380/4", "x", "y")
    assert "s3cret" not in str(error)
    assert "redis://:***@cache.internal:6380/4 (Redis database 4)" in str(error)
