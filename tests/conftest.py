"""Shared fixtures: real PostgreSQL/SQLite, real Redis, moto in server mode.

Database-backed tests run once on SQLite (the embedded default) and once on PostgreSQL.
Each test starts from empty tables, an empty Redis database and a freshly reset moto.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool
from tortoise import Tortoise, connections
from tortoise.backends.base import executor

from jit.authz.service import Authorizer
from jit.aws.clients import AwsClients
from jit.clock import FrozenClock
from jit.config import Settings
from jit.db import close_db, init_db, migrate
from jit.demo.embedded import free_port, reset_moto, start_moto
from jit.runtime import Runtime
from tests import services

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

# Never reset by the per-test cleanup: other processes cache policy by this counter, and
# a counter that went back to a value they had seen would leave them stale. The deployment
# id belongs to the database as the migrations do (each test's Redis database is flushed,
# its claim with it: arq_redis).
KEEP_TABLES = {"authz_policy_version", "tortoise_migrations", "deployment"}


@pytest.fixture(scope="session")
def moto_url():
    server = start_moto(free_port())
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def redis_url():
    url, embedded = services.find_redis()
    yield url
    if embedded:
        embedded.stop()


@pytest.fixture(scope="session")
def postgres_test_url():
    url, private = services.postgres_url()
    yield url
    if private:
        private.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def database_url(request, postgres_test_url, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path_factory.mktemp('db') / 'jit.sqlite3'}"
    else:
        url = postgres_test_url
    await migrate(url)
    await init_db(url)
    yield url
    await close_db()
    # Tortoise caches each model's INSERT statement per connection name, not per dialect;
    # the next backend in this process must not inherit SQLite's placeholders.
    executor.EXECUTOR_CACHE.clear()


async def _truncate(url: str) -> None:
    conn = connections.get("default")
    tables = [m._meta.db_table for m in Tortoise.apps["models"].values() if m._meta.db_table not in KEEP_TABLES]
    if url.startswith("postgres"):
        await conn.execute_script(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    else:
        for table in tables:
            await conn.execute_script(f"DELETE FROM {table}")


@pytest.fixture
def settings(database_url, redis_url, moto_url) -> Settings:
    return Settings(
        mode="test", database_url=database_url, redis_url=redis_url, aws_endpoint_url=moto_url,
        aws_region="us-east-1", min_duration_seconds=1, max_targets=5,
        assignment_poll_interval=0.05, assignment_first_poll=0.05, assignment_poll_timeout=10,
    )


@pytest.fixture
async def arq_redis(redis_url) -> ArqRedis:
    pool = await create_pool(RedisSettings.from_dsn(redis_url))
    await pool.flushdb()
    yield pool
    await pool.aclose()


@pytest.fixture
async def runtime(settings, arq_redis, moto_url, database_url) -> AsyncIterator[Runtime]:
    await _truncate(database_url)
    reset_moto(moto_url)
    rt = Runtime(
        settings=settings, clock=FrozenClock(datetime.now(UTC)), aws=AwsClients(settings), authz=Authorizer(settings), redis=arq_redis
    )
    yield rt
    # Tests may swap in clients of their own (a fault proxy's); close whichever is there.
    await rt.aws.close()


@pytest.fixture
async def demo(runtime):
    """The demo organization, synced, with the demo rules: the world most tests live in."""
    from tests.factories import seed_world

    return await seed_world(runtime)


@pytest.fixture(scope="session")
def tmpdir_session():
    with tempfile.TemporaryDirectory() as path:
        yield path
