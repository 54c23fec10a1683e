"""Private PostgreSQL and Redis servers the fault suite may kill and restart at will
(never the shared ones other test runs use)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import asyncpg

from jit.demo.embedded import EmbeddedProcess, free_port, start_redis


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / name).exists():
            return str(root / name)
    raise RuntimeError(f"{name} not found: install PostgreSQL server binaries")


class PrivatePostgres:
    """initdb'd into a temporary directory; PostgreSQL will not run as root, so as root
    every command runs as the `postgres` user."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.dir = root / "pgdata"
        self.log = root / "pg.log"
        self.socket_dir = root / "pgsock"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/jit"

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = list(argv)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def init(self) -> PrivatePostgres:
        for path in (self.dir, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
        self.log.touch()
        if os.geteuid() == 0:
            shutil.chown(self.dir.parent, "postgres")
            for path in (self.dir, self.socket_dir, self.log):
                shutil.chown(path, "postgres", "postgres")
        self._run(_pg_bin("initdb"), "-D", str(self.dir), "-A", "trust", "-U", "postgres", "-N")
        self.start()
        self._run(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "jit")
        return self

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run(_pg_bin("pg_ctl"), "-D", str(self.dir), "-l", str(self.log), "-o", opts, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.dir), "-m", mode, "-w", "stop", check=False)

    def restart(self, down_for: float = 0.0, mode: str = "immediate") -> None:
        """`immediate` is a crash: every connection is cut without a goodbye."""
        self.stop(mode)
        time.sleep(down_for)
        self.start()

    async def fetch(self, query: str, *args):
        for attempt in range(30):
            try:
                conn = await asyncpg.connect(self.url.replace("postgres://", "postgresql://", 1), timeout=5)
                try:
                    return await conn.fetch(query, *args)
                finally:
                    await conn.close()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                if attempt == 29:
                    raise
                time.sleep(0.5)


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.server: EmbeddedProcess | None = None

    def start(self) -> None:
        self.server = start_redis(self.port)

    def stop(self) -> None:
        if self.server:
            self.server.stop()
            self.server = None

    def restart(self, down_for: float = 0.0) -> None:
        """No persistence: it comes back empty, as a Redis without AOF would."""
        self.stop()
        time.sleep(down_for)
        self.start()
