"""jit/demo/stack.py: the processes a LiveStack starts die with whoever started them, even
when that parent is SIGKILLed and runs no cleanup at all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from jit.demo.stack import spawn, stop_group

# A parent that starts moto and a `jit serve` through the stack, prints their pids, and waits.
PARENT = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from jit.demo.embedded import free_port, start_moto
    from jit.demo.stack import LiveStack
    moto = start_moto(free_port())
    stack = LiveStack({**__import__("os").environ, "JIT_MODE": "test", "JIT_DATABASE_URL": "sqlite://:memory:",
                       "JIT_AWS_ENDPOINT_URL": moto.url})
    api = stack.start_api(free_port())
    worker = stack.start_worker()
    print(json.dumps([moto.pid, api.pid, worker.pid]), flush=True)
    time.sleep(600)
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie waiting for init to reap it is gone for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while (alive := [p for p in pids if _alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_children_die_when_the_parent_is_sigkilled() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        line = parent.stdout.readline() if parent.stdout else ""
        assert line, "the parent did not start its children"
        children = json.loads(line)
        assert all(_alive(p) for p in children)
        parent.send_signal(signal.SIGKILL)
        parent.wait(5)
        assert _wait_gone(children, 5) == [], "children outlived their SIGKILLed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_stop_group_reaches_what_the_child_forked() -> None:
    # A shell that forks a sleeper and waits: stopping the shell's group stops the sleeper too.
    shell = spawn(["sh", "-c", "sleep 300 & echo $!; wait"], log=subprocess.PIPE)
    assert shell.stdout is not None
    grandchild = int(shell.stdout.readline())
    assert _alive(grandchild)
    stop_group(shell, timeout=5)
    assert _wait_gone([grandchild], 5) == []


def test_on_exit_runs_after_the_parent_is_sigkilled(tmp_path) -> None:
    """For servers that daemonize out of our tree (pg_ctl's postgres): the watchdog's command
    runs once the parent is gone, and not before."""
    marker = tmp_path / "ran"
    code = ("import sys, time; from jit.demo.stack import on_exit; "
            f"on_exit(['touch', {str(marker)!r}]); print('ready', flush=True); time.sleep(600)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        assert not marker.exists(), "the watchdog ran while its parent was alive"
        parent.send_signal(signal.SIGKILL)
        parent.wait(5)
        deadline = time.monotonic() + 5
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.exists(), "the watchdog did not run after its parent died"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
