"""docker-compose.yml, the Dockerfile and the proxy's Caddyfile, read as files: no Docker
engine runs on these machines, so these checks keep them from drifting away from the
code they start (`make cluster` runs the same topology as processes: test_cluster.py)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from jit.config import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _command(service: dict) -> list[str]:
    command = service["command"]
    if command[:2] == ["sh", "-c"]:
        return shlex.split(command[2])
    return command


def test_the_topology_the_issue_asks_for(compose):
    services = compose["services"]
    assert {"postgres", "redis", "api-1", "api-2", "proxy", "worker-1", "worker-2"} <= set(services)
    assert services["moto"]["profiles"] == ["demo"] and services["demo-seed"]["profiles"] == ["demo"]
    for name in ("api-1", "api-2", "worker-1", "worker-2"):
        words = _command(services[name])
        # Every replica migrates first; the migration lock makes that safe (test_migrate_lock.py).
        assert words[:2] == ["jit", "migrate"], name
    assert "serve" in _command(services["api-1"]) and "worker" in _command(services["worker-1"])
    # Workers get longer than the grace period to finish running jobs before the kill.
    grace = int(services["worker-1"]["environment"]["JIT_SHUTDOWN_GRACE_SECONDS"])
    assert int(services["worker-1"]["stop_grace_period"].rstrip("s")) > grace


def test_every_jit_setting_in_compose_is_one_jit_reads(compose):
    fields = {name.upper() for name in Settings.model_fields}
    named = set()
    for service in compose["services"].values():
        for key in (service.get("environment") or {}):
            if key.startswith("JIT_"):
                named.add(key)
    assert named, "the compose file sets no JIT_ variables"
    unknown = sorted(k for k in named if k.removeprefix("JIT_") not in fields)
    assert unknown == [], f"compose sets variables Settings ignores: {unknown}"


def test_the_commands_compose_runs_exist():
    for args in (["migrate", "--help"], ["serve", "--help"], ["worker", "--help"]):
        out = subprocess.run([sys.executable, "-m", "jit.cli", *args], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, (args, out.stderr[-500:])
    assert "--seed" in (ROOT / "jit/demo/cluster.py").read_text()


def test_the_proxy_balances_both_api_replicas_and_hides_metrics(compose):
    caddy = (ROOT / "deploy/Caddyfile").read_text()
    mounted = compose["services"]["proxy"]["volumes"][0].split(":")[0]
    assert (ROOT / mounted).resolve() == (ROOT / "deploy/Caddyfile").resolve()
    assert re.search(r"reverse_proxy\s+api-1:8000\s+api-2:8000", caddy)
    assert "health_uri /readyz" in caddy
    assert re.search(r"@metrics path /metrics\s+respond @metrics 404", caddy)


def test_the_image_builds_the_console_and_copies_what_the_package_needs():
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\w+))?", dockerfile, re.MULTILINE)
    assert [s[1] for s in stages] == ["console", "build", ""], stages
    assert stages[0][0].startswith("node:") and "npm run build" in dockerfile
    assert "COPY --from=console /build/frontend/dist /app/console" in dockerfile
    assert "JIT_CONSOLE_DIR=/app/console" in dockerfile
    copied = set(re.findall(r"^COPY\s+(?!--from)(.+?)\s+\S+$", dockerfile, re.MULTILINE))
    words = {w for line in copied for w in line.split()}
    # The package's own sources and its migrations (a package of the wheel: pyproject.toml).
    assert {"jit", "migrations", "pyproject.toml", "requirements.lock"} <= words
    assert "USER nobody" in dockerfile
    # The image runs as nobody: nothing may need writing under /app.
    assert not re.search(r"^VOLUME", dockerfile, re.MULTILINE)
