"""A live JIT for tests that drive it as an outside client would: `jit serve` and `jit worker`
as subprocesses on their own database, against moto with the demo organization.

`python -m tests.support.live` (run by LiveJit.start, with the server's environment) seeds
moto, migrates, syncs, applies the demo rules, and prints the demo users' tokens and the
account ids as JSON; seeding in a child keeps the test process's own ORM state untouched.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import asyncpg

from jit.demo.embedded import free_port, reset_moto
from jit.demo.stack import LiveStack, stop_groups
from jit.demo.stack import wait_ready as _wait_ready
from tests import services

# Two accounts that share a name, for the ambiguity a client must refuse to guess through.
TWIN_NAME = "twin"


def server_env(database_url: str, redis_url: str, moto_url: str, port: int) -> dict[str, str]:
    env = os.environ.copy()
    env.update({
        "JIT_MODE": "test", "JIT_DATABASE_URL": database_url, "JIT_REDIS_URL": redis_url,
        "JIT_AWS_ENDPOINT_URL": moto_url, "JIT_AWS_REGION": "us-east-1", "JIT_PORT": str(port),
        "JIT_MIN_DURATION_SECONDS": "1", "JIT_ASSIGNMENT_POLL_INTERVAL": "0.05", "JIT_ASSIGNMENT_FIRST_POLL": "0.05",
        "JIT_REVOKE_LEAD_SECONDS": "0",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
    })
    for key in ("JIT_SERVER", "JIT_TOKEN", "JIT_CONFIG_DIR"):
        env.pop(key, None)
    return env


async def fresh_postgres(name: str) -> str | None:
    """A new, empty PostgreSQL database called `name` (dropped first if it exists); None when
    the server is not there."""
    try:
        conn = await asyncpg.connect(services.PG_ADMIN_URL.replace("postgres://", "postgresql://", 1), timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return None
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    from urllib.parse import urlparse

    return urlparse(services.PG_ADMIN_URL)._replace(path=f"/{name}").geturl()


def database_for(suffix: str, tmp: Path) -> str:
    """A fresh PostgreSQL database of our own when the server is there, else SQLite."""
    url = asyncio.run(fresh_postgres(f"{services.PG_DATABASE}_{suffix}"))
    return url or f"sqlite://{tmp / 'jit.sqlite3'}"


def wait_healthy(url: str, processes: list[subprocess.Popen], timeout: float = 30) -> bool:
    """True once `url`/healthz answers; False if that takes too long or a process exits."""
    try:
        _wait_ready(url, processes, "/healthz", timeout)
    except RuntimeError:
        return False
    return True


def stop_all(processes: list[subprocess.Popen]) -> None:
    """Each process and everything it forked (jit/demo/stack.py)."""
    stop_groups(processes)


@dataclass
class LiveJit:
    database_url: str
    redis_url: str
    moto_url: str
    port: int = field(default_factory=free_port)
    tokens: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)
    twins: list[str] = field(default_factory=list)
    instance_arn: str = ""
    users: dict[str, str] = field(default_factory=dict)
    permission_sets: dict[str, str] = field(default_factory=dict)
    stack: LiveStack | None = None
    workers: int = 1

    @property
    def processes(self) -> list[subprocess.Popen]:
        return [*self.stack.apis, *self.stack.workers] if self.stack else []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return server_env(self.database_url, self.redis_url, self.moto_url, self.port)

    def start(self) -> LiveJit:
        import redis

        # A fresh database is a new deployment: the last run's queue and its claim on this
        # Redis database (jit/ops/deployment.py) go with the flush.
        redis.Redis.from_url(self.redis_url).flushdb()
        reset_moto(self.moto_url)
        out = subprocess.run([sys.executable, "-m", "tests.support.live"], env=self.env,
                             capture_output=True, text=True, timeout=180)
        if out.returncode != 0:
            raise RuntimeError(f"seeding the live JIT failed:\n{out.stderr[-3000:]}")
        seeded = json.loads(out.stdout.strip().splitlines()[-1])
        self.tokens, self.accounts, self.twins = seeded["tokens"], seeded["accounts"], seeded["twins"]
        self.instance_arn, self.users = seeded["instance_arn"], seeded["users"]
        self.permission_sets = seeded["permission_sets"]
        # Logs go to $JIT_LIVE_LOG_DIR/serve.log, worker.log, worker-1.log ... when that is set
        # (the benchmarks read job timings from them), else nowhere.
        log_dir = os.environ.get("JIT_LIVE_LOG_DIR")
        self.stack = LiveStack(self.env, log_dir=Path(log_dir) if log_dir else None)
        self.stack.start_api(self.port)
        for n in range(self.workers):
            self.stack.start_worker(f"worker-{n}" if n else "worker")
        try:
            self.stack.wait_ready("/healthz", timeout=30)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"the live JIT did not start: {exc}") from None
        return self

    def stop(self) -> None:
        if self.stack:
            self.stack.stop(10)

    def assignments(self, account: str, permission_set: str, user: str) -> list[dict]:
        """What AWS itself says, read with boto3 apart from JIT."""
        import boto3

        sso = boto3.client("sso-admin", endpoint_url=self.moto_url, region_name="us-east-1")
        items = sso.list_account_assignments(InstanceArn=self.instance_arn, AccountId=self.accounts[account],
                                             PermissionSetArn=self.permission_sets[permission_set])
        return [i for i in items["AccountAssignments"] if i["PrincipalId"] == self.users[user]]


async def _seed() -> dict:
    import aioboto3

    from jit.auth.service import create_token
    from jit.aws.clients import AwsClients
    from jit.clock import SystemClock
    from jit.config import Settings
    from jit.db import database, migrate
    from jit.demo.seed import seed_demo_organization
    from jit.directory.service import sync_directory
    from jit.runtime import Runtime

    settings = Settings()
    org = await seed_demo_organization(settings.aws_endpoint_url, settings.aws_region)
    twins = []
    async with aioboto3.Session().client("organizations", endpoint_url=settings.aws_endpoint_url,
                                         region_name=settings.aws_region) as client:
        for n in (1, 2):
            status = (await client.create_account(AccountName=TWIN_NAME, Email=f"twin{n}@example.com"))
            account_id = status["CreateAccountStatus"]["AccountId"]
            await client.move_account(AccountId=account_id, SourceParentId=org.root_id,
                                      DestinationParentId=org.organizational_units["/Sandbox"])
            twins.append(account_id)
    clock = SystemClock()
    await migrate(settings.database_url)
    async with database(settings.database_url):
        async with AwsClients(settings) as aws:
            await sync_directory(Runtime.offline(settings, clock, aws))
        tokens = {name: (await create_token(clock, name, "tests"))[0] for name in sorted(org.users)}
    # Through the command operators use, so the rules file is read exactly as in production.
    rules = resources.files("jit.demo").joinpath("rules.yaml")
    subprocess.run([sys.executable, "-m", "jit.cli", "rules", "apply", str(rules), "--prune"], check=True,
                   stdout=subprocess.DEVNULL)
    return {"tokens": tokens, "accounts": org.accounts, "twins": twins, "instance_arn": org.instance_arn,
            "users": org.users, "permission_sets": org.permission_sets}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_seed())))
