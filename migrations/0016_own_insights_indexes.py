"""Issue 19: a person's own insights read their tickets by when they end (active grants,
revoke lateness) as well as by when they were requested (0005's indexes): the same pair of
(requester, time) and (principal, time) indexes, on end_at."""

from tortoise import migrations
from tortoise.migrations import operations as ops

_INDEXES = {
    "idx_ticket_principal_end": '"ticket" ("principal_id", "end_at")',
    "idx_ticket_requester_end": '"ticket" ("requester_id", "end_at")',
}


class Migration(migrations.Migration):
    dependencies = [("models", "0015_insights_rollups")]

    operations = [
        ops.RunSQL(
            [f"CREATE INDEX IF NOT EXISTS {name} ON {target}" for name, target in _INDEXES.items()],
            reverse_sql=[f"DROP INDEX IF EXISTS {name}" for name in _INDEXES],
        ),
    ]
