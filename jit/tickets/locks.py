"""Row locks on a ticket and on its extensions, for the rest of the unit of work.

A lock is an UPDATE of the row, not SELECT ... FOR UPDATE: PostgreSQL takes the row lock,
and SQLite, which has no row locks, takes its write lock at once instead of letting two
readers both go on to write. Call these first inside `rt.unit_of_work()`, then check the
state they return: whoever waited sees what the other one committed.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from tortoise.expressions import F
from tortoise.models import Model

from jit.errors import NotFound
from jit.tickets.models import Extension, Ticket

M = TypeVar("M", bound=Model)


async def lock_row(model: type[M], pk: uuid.UUID | str, column: str, *, bump: bool = False) -> M | None:
    """`model`'s row `pk`, read fresh under its write lock (None when it is gone). The lock
    writes `column` back unchanged, or one more with `bump`."""
    await model.filter(pk=pk).update(**{column: F(column) + 1 if bump else F(column)})
    return await model.get_or_none(pk=pk)


async def lock_ticket(ticket_id: uuid.UUID | str, *, bump_version: bool = True) -> Ticket:
    """The ticket under its row lock: concurrent decisions on one ticket run one after
    another, so exactly one of them sees the quorum complete.

    A decision bumps the version, so a transition prepared from an older read (a cancel, the
    expiry job) fails and re-reads. An extension does not (`bump_version=False`): the version
    is the optimistic lock of the grant and revoke jobs' transitions, and an extension must
    not make an in-flight job's transition fail."""
    ticket = await lock_row(Ticket, ticket_id, "version", bump=bump_version)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} not found", field="ticketId")
    return ticket


async def lock_extension(extension_id: uuid.UUID | str) -> Extension:
    """The extension under its row lock, which serializes decisions on it."""
    extension = await lock_row(Extension, extension_id, "created_at")
    if extension is None:
        raise NotFound(f"extension {extension_id} not found", field="extensionId")
    return extension
