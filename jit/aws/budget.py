"""One AWS call budget for the whole deployment (ARCHITECTURE.md, invariant 10).

IAM Identity Center's account access API allows 20 calls per second per instance and 15
outstanding asynchronous writes. Every sso-admin call JIT makes passes this budget, in
priority order: revokes, then grants, then status polls, then reads (drift, sync,
activity). The caller says which it is with `aws_priority`; a call made outside one is a
read, the lowest.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum


class Priority(IntEnum):
    """Lower is more urgent."""

    REVOKE = 0
    GRANT = 1
    POLL = 2
    READ = 3


_priority: contextvars.ContextVar[Priority] = contextvars.ContextVar("aws_priority", default=Priority.READ)


def current_priority() -> Priority:
    return _priority.get()


@contextmanager
def aws_priority(priority: Priority) -> Iterator[None]:
    """AWS calls made inside this block are spent at `priority`."""
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)
