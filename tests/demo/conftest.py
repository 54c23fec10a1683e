from __future__ import annotations

from collections.abc import Iterator

import pytest

from jit.demo.embedded import EmbeddedProcess, free_port, reset_moto, start_moto


@pytest.fixture(scope="session")
def moto_server() -> Iterator[EmbeddedProcess]:
    server = start_moto(free_port())
    yield server
    server.stop()


@pytest.fixture
def moto(moto_server: EmbeddedProcess) -> EmbeddedProcess:
    reset_moto(moto_server.url)
    return moto_server
