"""One way to run JIT as processes: `jit serve` and `jit worker` (and moto, Redis, a private
PostgreSQL) as children that cannot outlive whoever started them.

`make cluster` (jit/demo/cluster.py), the live tests (tests/support/live.py), the fault
suite and the benchmarks all start their processes through `spawn` and `LiveStack`, so
they all stop the same way:

- each child leads its own session (start_new_session), so a ctrl-C in the terminal reaches
  only the parent, and `os.killpg` on its pid reaches anything it forked;
- on Linux each child also asks the kernel for SIGKILL when its parent dies
  (prctl PR_SET_PDEATHSIG), so a SIGKILLed pytest or `make cluster`, which runs no
  cleanup at all, takes its jit, moto, Redis and PostgreSQL children with it.

It lives in the product package, not in tests/, because `make cluster` is product code and
must not import the test suite; the tests import it from here.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> Callable[[], None]:
    """A preexec_fn: in the child, between fork and exec, ask for SIGKILL when `parent` dies."""

    libc = None
    if sys.platform == "linux":
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)

    def preexec() -> None:
        if libc is None:
            return
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # The parent may have died between fork and prctl: then nobody will signal us.
        if os.getppid() != parent:
            os._exit(1)

    return preexec


def spawn(argv: Sequence[str], env: dict[str, str] | None = None,
          log: Path | int | IO[bytes] | None = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """`argv` in its own session, killed by the kernel if this process dies. Its output goes
    to `log`: a path (appended to), a file or descriptor, nowhere by default, or where this
    process's own output goes when None."""
    out: int | IO[bytes] | None
    opened: IO[bytes] | None = None
    if isinstance(log, Path):
        log.parent.mkdir(parents=True, exist_ok=True)
        out = opened = open(log, "ab")  # noqa: SIM115 - the child holds it; we close our copy below
    else:
        out = log
    try:
        return subprocess.Popen(list(argv), env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=_die_with(os.getpid()))
    finally:
        if opened is not None:
            opened.close()


def signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """`sig` to the process and everything it forked when it leads its own process group
    (as `spawn` makes it), else to the process alone."""
    try:
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, sig)
        elif process.poll() is None:
            process.send_signal(sig)
    except ProcessLookupError:
        pass


def stop_group(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM to the group, then SIGKILL if it has not exited within `timeout`."""
    stop_groups([process], timeout)


def stop_groups(processes: Sequence[subprocess.Popen[bytes]], timeout: float = 10.0) -> None:
    for process in processes:
        if process.poll() is None:
            signal_group(process, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            signal_group(process, signal.SIGKILL)
            process.wait(5)
        # A child's own children may linger after it exits: the group goes too.
        signal_group(process, signal.SIGKILL)


def wait_ready(url: str, processes: Sequence[subprocess.Popen[bytes]], path: str = "/readyz",
               timeout: float = 60.0) -> None:
    """Until `url``path` answers 2xx; RuntimeError if one of `processes` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{command_line(process)} exited with {process.returncode} before {url} was ready")
        try:
            with urllib.request.urlopen(f"{url}{path}", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url}{path} did not answer within {timeout:.0f}s") from None
            time.sleep(0.2)


def command_line(process: subprocess.Popen[bytes]) -> str:
    args = process.args
    return " ".join(map(str, args)) if isinstance(args, list | tuple) else str(args)


_watchdog_pipes: list[int] = []


def on_exit(argv: Sequence[str]) -> subprocess.Popen[bytes]:
    """Runs `argv` once this process has died, however it died, even by SIGKILL: for servers
    that daemonize out of our process tree (pg_ctl's postgres), which no signal to a child of
    ours reaches. A watchdog child reads a pipe only we hold open; the kernel closes it when
    we die, and the watchdog then runs `argv`. It runs too after a normal exit, so `argv`
    must be harmless when the server is already stopped."""
    read_end, write_end = os.pipe()  # not inheritable: no other child holds the pipe open
    try:
        watchdog = subprocess.Popen([sys.executable, "-m", "jit.demo.stack", "--on-exit", *argv], stdin=read_end,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    finally:
        os.close(read_end)
    _watchdog_pipes.append(write_end)
    return watchdog


def _watch(argv: list[str]) -> None:
    sys.stdin.buffer.read()  # until EOF: the parent is gone
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False)


def jit_command(*argv: str) -> list[str]:
    return [sys.executable, "-m", "jit.cli", *argv]


@dataclass
class LiveStack:
    """`jit serve` replicas and `jit worker`s on one environment.

    `env` is the whole environment the processes get; `log_dir`, when set, holds one log per
    process (serve.log, worker.log, worker-2.log, ...); without it their output is dropped,
    or with `inherit_output` goes where this process's does (pytest shows it on failure).
    """

    env: dict[str, str]
    log_dir: Path | None = None
    inherit_output: bool = False
    apis: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    api_ports: list[int] = field(default_factory=list)

    def _log(self, name: str) -> Path | int | None:
        if self.log_dir is not None:
            return self.log_dir / f"{name}.log"
        return None if self.inherit_output else subprocess.DEVNULL

    def _env(self, extra: dict[str, str]) -> dict[str, str]:
        return {**self.env, **extra}

    def start_api(self, port: int, name: str = "serve", **extra: str) -> subprocess.Popen[bytes]:
        process = spawn(jit_command("serve", "--port", str(port)), self._env(extra), self._log(name))
        self.apis.append(process)
        self.api_ports.append(port)
        return process

    def start_worker(self, name: str = "worker", index: int | None = None, **extra: str) -> subprocess.Popen[bytes]:
        """A worker; with `index`, it replaces the worker at that place (after a kill)."""
        process = spawn(jit_command("worker"), self._env(extra), self._log(name))
        if index is not None and index < len(self.workers):
            self.workers[index] = process
        else:
            self.workers.append(process)
        return process

    def api_url(self, index: int = 0) -> str:
        return f"http://127.0.0.1:{self.api_ports[index]}"

    def wait_ready(self, path: str = "/readyz", timeout: float = 60.0) -> None:
        """Every API answers `path`; fails if any process exits on the way."""
        for index in range(len(self.apis)):
            wait_ready(self.api_url(index), [*self.apis, *self.workers], path, timeout)

    def signal_worker(self, index: int, sig: int) -> None:
        signal_group(self.workers[index], sig)

    def stop(self, timeout: float = 30.0) -> None:
        stop_groups([*self.apis, *self.workers], timeout)
        self.apis, self.workers, self.api_ports = [], [], []


if __name__ == "__main__":
    if sys.argv[1:2] == ["--on-exit"] and len(sys.argv) > 2:
        _watch(sys.argv[2:])
    else:
        raise SystemExit("usage: python -m jit.demo.stack --on-exit COMMAND [ARG ...]")
