"""The CLI as its users run it: a separate process talking HTTP and websockets to a live JIT."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import pytest

from tests.support.live import LiveJit, database_for


@pytest.fixture(scope="package")
def live(redis_url, moto_url, tmp_path_factory):
    """One live server for these modules: starting one costs seconds, not milliseconds. Tests
    share it, so each uses its own accounts or tickets and reads only what it made."""
    server = LiveJit(database_for("client", tmp_path_factory.mktemp("client")), redis_url, moto_url).start()
    yield server
    server.stop()


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


def run_jit(*args: str, env: dict[str, str], input: str | None = None, timeout: float = 60) -> Result:
    done = subprocess.run([sys.executable, "-m", "jit.cli", *args], env=env, input=input, capture_output=True,
                          text=True, timeout=timeout)
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def jit(live, tmp_path):
    """`jit(*args, user="alice")` runs the CLI as that user (JIT_SERVER and JIT_TOKEN)."""

    def run(*args: str, user: str | None = "alice", input: str | None = None, timeout: float = 60, **extra: str) -> Result:
        env = client_env(live, user, tmp_path)
        env.update(extra)
        return run_jit(*args, env=env, input=input, timeout=timeout)

    return run


def client_env(live: LiveJit, user: str | None, config_dir) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("JIT_")}
    env.update({"JIT_CONFIG_DIR": str(config_dir / "jit-config"), "JIT_CLIENT_RETRY_DELAYS": "0.05,0.05",
                "COLUMNS": "250"})
    if user:
        env.update({"JIT_SERVER": live.url, "JIT_TOKEN": live.tokens[user]})
    return env
