"""Run by test_migration.py in its own process: a database at 0004 with audit events (before 0007_audit),
then migrated to the newest migration, must verify as one chain."""

from __future__ import annotations

import asyncio
import sys
import uuid

from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate

from jit.db import close_db, init_db, tortoise_config


async def main(url: str) -> None:
    await migrate(config=tortoise_config(url), target="models.0004_security")
    await Tortoise.close_connections()
    await init_db(url)
    conn = connections.get("default")
    postgres = url.startswith("postgres")
    mark = (lambda i: f"${i}") if postgres else (lambda i: "?")
    ticket = str(uuid.uuid4())
    rows = [
        ("2026-01-01 10:00:00.123456+00:00", "u1", "ticket.requested", ticket, None, "PENDING_APPROVAL", '{"principal": "alice"}'),
        ("2026-01-01 10:05:00+00:00", "u2", "ticket.scheduled", ticket, "PENDING_APPROVAL", "SCHEDULED", "{}"),
        ("2026-01-01 11:00:00+00:00", None, "rule.created", None, None, None, '{"rule": "r", "after": {"name": "r"}}'),
    ]
    for row in rows:
        await conn.execute_query(
            "INSERT INTO audit_event (at, actor_id, action, ticket_id, from_status, to_status, detail) "
            f"VALUES ({', '.join(mark(i) for i in range(1, 8))})",
            [*row[:6], row[6]] if not postgres else [__import__("datetime").datetime.fromisoformat(row[0]), *row[1:]],
        )
    await close_db()
    await migrate(config=tortoise_config(url))
    await Tortoise.close_connections()
    await init_db(url)
    from jit.audit.models import AuditEvent
    from jit.audit.service import record
    from jit.audit.verify import verify_chain

    events = await AuditEvent.all().order_by("seq")
    assert [e.seq for e in events] == [1, 2, 3], [e.seq for e in events]
    assert events[1].before == {"status": "PENDING_APPROVAL"} and events[1].subject_id == ticket
    await record(events[-1].at, None, "ticket.active", ticket_id=uuid.UUID(ticket), from_status="SCHEDULED", to_status="ACTIVE")
    result = await verify_chain()
    await close_db()
    print("OK" if result.ok and result.checked == 4 else f"BROKEN {result.broken} {result.checked}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
