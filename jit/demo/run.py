"""`jit demo`: the whole product on embedded defaults.

SQLite, a Redis server and moto in server mode are started as child processes; the demo
organization is seeded into moto, synced, given the demo rules, and every demo user gets
a bearer token. Then the API and a worker run until ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from importlib import resources
from pathlib import Path
from typing import cast

from jit.demo.embedded import EmbeddedProcess, start_moto, start_redis

DEMO_DIR = Path(".jit")


def _demo_environment() -> dict[str, str]:
    DEMO_DIR.mkdir(exist_ok=True)
    env = {
        "JIT_MODE": "demo",
        "JIT_DATABASE_URL": os.environ.get("JIT_DATABASE_URL", f"sqlite://{DEMO_DIR / 'demo.sqlite3'}"),
        "JIT_AWS_REGION": os.environ.get("JIT_AWS_REGION", "us-east-1"),
        # Short tickets make the whole life of a ticket watchable in a minute.
        "JIT_MIN_DURATION_SECONDS": os.environ.get("JIT_MIN_DURATION_SECONDS", "60"),
        "JIT_ASSIGNMENT_POLL_INTERVAL": "0.2", "JIT_ASSIGNMENT_FIRST_POLL": "0.2",
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo",
        "AWS_DEFAULT_REGION": os.environ.get("JIT_AWS_REGION", "us-east-1"),
    }
    return env


async def _prepare(demo_users: list[str]) -> dict[str, str]:
    from jit.auth.service import create_token
    from jit.aws.clients import AwsClients
    from jit.clock import SystemClock
    from jit.config import Settings
    from jit.db import database, migrate
    from jit.demo.delegation import seed_demo_delegation
    from jit.directory.service import sync_directory
    from jit.rules.groups import apply_rules_file
    from jit.runtime import Runtime

    settings = Settings()
    clock = SystemClock()
    await migrate(settings.database_url)
    async with database(settings.database_url):
        async with AwsClients(settings) as aws:
            await sync_directory(Runtime.offline(settings, clock, aws))
        text = resources.files("jit.demo").joinpath("rules.yaml").read_text()
        rt = Runtime.offline(settings, clock)
        await apply_rules_file(rt, text, actor_id=None, prune=True)
        await seed_demo_delegation(rt)
        tokens = {}
        for name in demo_users:
            tokens[name], _ = await create_token(clock, name, "demo")
    return tokens


def _deployment_of(db_file: Path) -> str | None:
    """The deployment id in a demo database about to be thrown away, if it has one."""
    import sqlite3

    if not db_file.exists():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT deployment_id FROM deployment").fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


async def _release(redis_url: str, deployment_id: str) -> None:
    from redis.asyncio import Redis

    from jit.ops.deployment import release

    client = Redis.from_url(redis_url)
    try:
        await release(client, deployment_id)
    finally:
        await client.aclose()


def _wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


def run_demo(reset: bool = True) -> None:
    from jit.demo.seed import seed_demo_organization

    env = _demo_environment()
    os.environ.update({k: v for k, v in env.items() if k not in os.environ or k.startswith("JIT_MODE")})
    from jit.config import Settings

    settings = Settings()
    db_file = DEMO_DIR / "demo.sqlite3"
    previous = None
    if reset and settings.database_url.startswith("sqlite://"):
        previous = _deployment_of(db_file)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)

    children: list[EmbeddedProcess | subprocess.Popen[bytes]] = []
    try:
        print(f"starting moto (AWS endpoint) on 127.0.0.1:{settings.demo_aws_port} ...", flush=True)
        moto = start_moto(settings.demo_aws_port)
        children.append(moto)
        redis_url = os.environ.get("JIT_REDIS_URL")
        if not redis_url:
            print(f"starting redis-server on 127.0.0.1:{settings.demo_redis_port} ...", flush=True)
            redis = start_redis(settings.demo_redis_port)
            children.append(redis)
            redis_url = redis.url
        elif previous:
            # The reset database's claim on the given Redis database would refuse the new
            # one (jit/ops/deployment.py); only that claim goes, not another deployment's.
            asyncio.run(_release(redis_url, previous))
        os.environ["JIT_REDIS_URL"] = redis_url
        os.environ["JIT_AWS_ENDPOINT_URL"] = moto.url

        print("seeding the demo organization ...", flush=True)
        org = asyncio.run(seed_demo_organization(moto.url, settings.aws_region))
        tokens = asyncio.run(_prepare(sorted(org.users)))

        for command in ("serve", "worker"):
            children.append(subprocess.Popen([sys.executable, "-m", "jit.cli", command], env=os.environ.copy()))
        _wait_http(f"{settings.base_url}/healthz")

        print()
        print("JIT demo is running. Press ctrl-C to stop.")
        print(f"  Console:      {settings.base_url}/   (pick a demo user, or paste a token below)")
        print(f"  GraphQL:      {settings.base_url}/graphql   (GraphiQL in a browser; subscriptions over ws)")
        print(f"  AWS endpoint: {moto.url}   (moto; any access key works)")
        print(f"  Redis:        {redis_url}")
        print(f"  Database:     {settings.database_url}")
        print("  Bearer tokens (send 'Authorization: Bearer <token>'):")
        for name, token in tokens.items():
            print(f"    {name:<10} {token}")
        print(flush=True)

        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
        while not stop:
            for child in children:
                if isinstance(child, subprocess.Popen) and child.poll() is not None:
                    # Every child is started with an argument list.
                    raise RuntimeError(f"{cast(list[str], child.args)[-1]} exited with {child.returncode}")
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for child in reversed(children):
            if isinstance(child, subprocess.Popen):
                child.terminate()
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    child.kill()
            else:
                child.stop()
