"""Indexes for the read paths measured in docs/performance.md at a million tickets: a
person's own tickets newest first, the status filter, rule lookups, and the approvals
inbox (pending steps only, a partial index that stays small however long the history)."""

from tortoise import migrations
from tortoise.migrations import operations as ops

_INDEXES = {
    "idx_ticket_principal_created": '"ticket" ("principal_id", "created_at")',
    "idx_ticket_requester_created": '"ticket" ("requester_id", "created_at")',
    "idx_ticket_status_created": '"ticket" ("status", "created_at")',
    "idx_ticket_created_id": '"ticket" ("created_at", "id")',
    "idx_ticket_target_rule": '"ticket_target" ("rule_id", "ticket_id")',
    "idx_ticket_step_rule": '"ticket_step" ("rule_id", "ticket_id")',
    "idx_ticket_step_pending": "\"ticket_step\" (\"ticket_id\", \"position\") WHERE \"status\" = 'PENDING'",
}


class Migration(migrations.Migration):
    dependencies = [("models", "0004_security")]

    operations = [
        ops.RunSQL(
            [f"CREATE INDEX IF NOT EXISTS {name} ON {target}" for name, target in _INDEXES.items()],
            reverse_sql=[f"DROP INDEX IF EXISTS {name}" for name in _INDEXES],
        ),
    ]
