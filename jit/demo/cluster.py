"""`make cluster`: the docker-compose topology as local processes, for development and for
the scale-out tests (tests/ops/test_cluster.py).

Two API replicas (`jit serve`) behind a round-robin proxy, two workers (`jit worker`), the
machine's PostgreSQL (database `jit_cluster`) and Redis, and moto seeded with the demo
organization as `jit demo` seeds it. The environment may override each piece:

  JIT_CLUSTER_PG_ADMIN_URL  server to create the database on (postgres://postgres@127.0.0.1:5432/postgres)
  JIT_CLUSTER_DATABASE      database name (jit_cluster); JIT_DATABASE_URL instead uses that database as is
  JIT_REDIS_URL             Redis (default: 127.0.0.1:6379 db 13 if it answers, else a private redis-server)
  JIT_CLUSTER_PORT          the proxy's port (8100); the APIs, workers' metrics and moto take the next ones
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from jit.demo.embedded import EmbeddedProcess, free_port, start_moto, start_redis
from jit.demo.proxy import RoundRobinProxy
from jit.demo.stack import LiveStack, command_line

DEFAULT_PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def _redis_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


async def _fresh_database(admin_url: str, name: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return urlparse(admin_url)._replace(path=f"/{name}").geturl()


class _Server(Protocol):
    def stop(self) -> None: ...


@dataclass
class LocalCluster:
    root: Path
    port: int = 0
    apis: int = 2
    workers: int = 2
    env_overrides: dict[str, str] = field(default_factory=dict)
    # Puts something between JIT and moto (the tests' fault proxy): moto's URL in, JIT's endpoint out.
    front_aws: Callable[[str], str] | None = None
    aws_endpoint_url: str = ""
    database_url: str = ""
    redis_url: str = ""
    moto: EmbeddedProcess | None = None
    proxy: RoundRobinProxy | None = None
    api_ports: list[int] = field(default_factory=list)
    metrics_ports: list[int] = field(default_factory=list)
    stack: LiveStack | None = None
    seeded: dict[str, Any] = field(default_factory=dict)
    _embedded: list[_Server] = field(default_factory=list)

    # --- where things are ----------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.proxy.url if self.proxy else f"http://127.0.0.1:{self.port}"

    def api_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.api_ports[index]}"

    @property
    def tokens(self) -> dict[str, str]:
        tokens: dict[str, str] = self.seeded.get("tokens", {})
        return tokens

    def env(self, **extra: str) -> dict[str, str]:
        env = os.environ.copy()
        env.update({
            "JIT_MODE": "demo", "JIT_DATABASE_URL": self.database_url, "JIT_REDIS_URL": self.redis_url,
            "JIT_AWS_ENDPOINT_URL": self.aws_endpoint_url, "JIT_AWS_REGION": "us-east-1",
            "JIT_PUBLIC_URL": self.url, "JIT_LOG_FORMAT": "json",
            "JIT_MIN_DURATION_SECONDS": os.environ.get("JIT_MIN_DURATION_SECONDS", "60"),
            "JIT_ASSIGNMENT_POLL_INTERVAL": "0.2", "JIT_ASSIGNMENT_FIRST_POLL": "0.2",
            "AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo", "AWS_DEFAULT_REGION": "us-east-1",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(self.env_overrides)
        env.update(extra)
        return env

    # --- starting ------------------------------------------------------------------------
    def _pick_ports(self) -> None:
        if not self.port:
            self.port = int(os.environ.get("JIT_CLUSTER_PORT", "0")) or free_port()
        self.api_ports = [free_port() for _ in range(self.apis)]
        self.metrics_ports = [free_port() for _ in range(self.workers)]

    def _find_redis(self) -> str:
        configured = self.env_overrides.get("JIT_REDIS_URL") or os.environ.get("JIT_REDIS_URL")
        if configured:
            return configured
        if _redis_answers("127.0.0.1", 6379):
            return "redis://127.0.0.1:6379/13"
        embedded = start_redis(free_port())
        self._embedded.append(embedded)
        return embedded.url

    def _find_database(self) -> str:
        configured = self.env_overrides.get("JIT_DATABASE_URL") or os.environ.get("JIT_DATABASE_URL")
        if configured:
            return configured
        admin = os.environ.get("JIT_CLUSTER_PG_ADMIN_URL", DEFAULT_PG_ADMIN_URL)
        name = os.environ.get("JIT_CLUSTER_DATABASE", "jit_cluster")
        try:
            return asyncio.run(_fresh_database(admin, name))
        except (TimeoutError, OSError) as exc:
            problem = exc
        # As the test suite does: a private server from the installed binaries, when this
        # runs from a source checkout that has the helper.
        try:
            from tests.support.postgres import start_private_postgres
        except ImportError:
            raise SystemExit(f"PostgreSQL is not reachable at {admin} ({problem}); start one or set "
                             "JIT_CLUSTER_PG_ADMIN_URL") from None
        server = start_private_postgres()
        self._embedded.append(server)
        return asyncio.run(_fresh_database(server.url, name))

    def start(self) -> LocalCluster:
        import redis

        self.root.mkdir(parents=True, exist_ok=True)
        self._pick_ports()
        self.database_url = self._find_database()
        self.redis_url = self._find_redis()
        # The database was made afresh, a new deployment: the last run's queue and its claim
        # on this Redis database (jit/ops/deployment.py) go with the flush.
        redis.Redis.from_url(self.redis_url).flushdb()
        self.moto = start_moto(free_port())
        self._embedded.append(self.moto)
        self.aws_endpoint_url = self.front_aws(self.moto.url) if self.front_aws else self.moto.url
        self.proxy = RoundRobinProxy([("127.0.0.1", p) for p in self.api_ports], port=self.port).start()
        out = subprocess.run([sys.executable, "-m", "jit.demo.cluster", "--seed"], env=self.env(),
                             capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"seeding the cluster failed:\n{out.stderr[-3000:]}")
        self.seeded = json.loads(out.stdout.strip().splitlines()[-1])
        self.stack = LiveStack(self.env(), log_dir=self.root)
        for i, port in enumerate(self.api_ports):
            self.stack.start_api(port, name=f"api-{i + 1}")
        for i in range(self.workers):
            self.start_worker(i)
        try:
            self.stack.wait_ready()
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; see the logs in {self.root}") from None
        return self

    @property
    def api_procs(self) -> list[subprocess.Popen[bytes]]:
        return self.stack.apis if self.stack else []

    @property
    def worker_procs(self) -> list[subprocess.Popen[bytes]]:
        return self.stack.workers if self.stack else []

    def start_worker(self, index: int) -> subprocess.Popen[bytes]:
        assert self.stack is not None, "start() first"
        return self.stack.start_worker(f"worker-{index + 1}", index,
                                       JIT_WORKER_METRICS_PORT=str(self.metrics_ports[index]))

    # --- stopping ------------------------------------------------------------------------
    def signal_worker(self, index: int, sig: int) -> None:
        if self.stack:
            self.stack.signal_worker(index, sig)

    def stop(self) -> None:
        if self.stack:
            self.stack.stop()
        if self.proxy:
            self.proxy.stop()
        for embedded in reversed(self._embedded):
            embedded.stop()


async def _seed() -> dict[str, Any]:
    """In a child process with the cluster's environment: the demo organization in moto,
    then the database as `jit demo` prepares it."""
    from jit.config import Settings
    from jit.demo.run import _prepare
    from jit.demo.seed import seed_demo_organization

    settings = Settings()
    assert settings.aws_endpoint_url, "the cluster sets JIT_AWS_ENDPOINT_URL"
    org = await seed_demo_organization(settings.aws_endpoint_url, settings.aws_region)
    tokens = await _prepare(sorted(org.users))
    return {"tokens": tokens, "accounts": org.accounts, "permission_sets": org.permission_sets,
            "users": org.users, "instance_arn": org.instance_arn}


def main() -> None:
    if sys.argv[1:] == ["--seed"]:
        print(json.dumps(asyncio.run(_seed())))
        return
    cluster = LocalCluster(Path(".jit/cluster"), port=int(os.environ.get("JIT_CLUSTER_PORT", "8100")))
    stop: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    try:
        print("starting the cluster: PostgreSQL, Redis, moto, 2 APIs behind a proxy, 2 workers ...", flush=True)
        cluster.start()
        print()
        print("JIT cluster is running. Press ctrl-C to stop.")
        rows = [("Proxy (console, GraphQL)", f"{cluster.url}/   {cluster.url}/graphql")]
        rows += [(f"API {i + 1}", f"{cluster.api_url(i)}   (/readyz, /metrics)") for i in range(cluster.apis)]
        rows += [(f"Worker {i + 1} metrics", f"http://127.0.0.1:{port}/metrics")
                 for i, port in enumerate(cluster.metrics_ports)]
        moto_url = cluster.moto.url if cluster.moto else cluster.aws_endpoint_url
        rows += [("AWS endpoint", f"{moto_url}   (moto; any access key works)"),
                 ("Redis", cluster.redis_url), ("Database", cluster.database_url),
                 ("Logs (JSON)", f"{cluster.root}/")]
        for label, value in rows:
            print(f"  {label + ':':<26}{value}")
        print("  Bearer tokens (send 'Authorization: Bearer <token>'):")
        for name, token in cluster.tokens.items():
            print(f"    {name:<10} {token}")
        print(flush=True)
        while not stop:
            for proc in [*cluster.api_procs, *cluster.worker_procs]:
                if proc.poll() is not None:
                    raise RuntimeError(f"{command_line(proc)} exited with {proc.returncode}; see {cluster.root}")
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
