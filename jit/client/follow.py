"""Following one ticket over the `ticketUpdated` subscription."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from jit.client import documents
from jit.client.errors import ExitCode
from jit.client.transport import GraphQLClient

# Statuses after which nothing more happens to a ticket.
FINAL = {"ENDED", "REJECTED", "CANCELLED", "EXPIRED", "FAILED"}

# What `--wait` reports when a ticket stops short of ACTIVE.
SHORT_OF_ACTIVE = {
    "REJECTED": ExitCode.REJECTED,
    "FAILED": ExitCode.FAILED,
    "EXPIRED": ExitCode.EXPIRED,
    "CANCELLED": ExitCode.ENDED,
    "REVOKING": ExitCode.ENDED,
    "ENDED": ExitCode.ENDED,
}


def updates(client: GraphQLClient, ticket_id: str, timeout: float | None) -> Iterator[dict[str, Any]]:
    """Every status of the ticket, starting with the current one, until it is final."""
    deadline = time.monotonic() + timeout if timeout else None
    last_version = -1
    for data in client.subscribe(documents.WATCH, {"id": ticket_id}, deadline):
        update = data["ticketUpdated"]
        # After a reconnect the first message repeats the current state; show it once.
        if update["version"] <= last_version:
            continue
        last_version = update["version"]
        yield update
        if update["status"] in FINAL:
            return


def wait_until_active(client: GraphQLClient, ticket_id: str, timeout: float | None,
                      on_update: Callable[[dict[str, Any]], None] | None = None) -> tuple[str, ExitCode]:
    """The status the wait ended on, and the exit code that says so (OK for ACTIVE)."""
    for update in updates(client, ticket_id, timeout):
        if on_update:
            on_update(update)
        status = update["status"]
        if status == "ACTIVE":
            return status, ExitCode.OK
        if status in SHORT_OF_ACTIVE:
            return status, SHORT_OF_ACTIVE[status]
    return "UNKNOWN", ExitCode.ERROR
