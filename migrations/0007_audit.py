"""The audit chain: seq, hashes, subject, before/after, on behalf of; and the chain head.

The new columns are nullable: both databases refuse to add a NOT NULL column without a
database default to a table that has rows. The migration fills them for every row.

Events written before this migration are chained here, in id order, so `jit audit
verify` covers them too."""

import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


def _json_field(**kw):
    return fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads, **kw)


async def chain_existing_events(apps, schema_editor) -> None:
    from jit.audit.chain import GENESIS, event_hash, plain

    client = schema_editor.client
    dialect = client.capabilities.dialect
    mark = (lambda i: f"${i}") if dialect == "postgres" else (lambda i: "?")
    AuditEvent = apps.get_model("models.AuditEvent")
    rows = await AuditEvent.all().using_db(client).order_by("id")
    prev = GENESIS
    for seq, row in enumerate(rows, start=1):
        subject_type = "ticket" if row.ticket_id else row.action.split(".", 1)[0]
        subject_id = str(row.ticket_id) if row.ticket_id else None
        before = {"status": row.from_status} if row.from_status else None
        after = {"status": row.to_status} if row.to_status else None
        fields_ = {
            "seq": seq, "at": row.at, "actor_id": row.actor_id, "on_behalf_of": None, "action": row.action,
            "subject_type": subject_type, "subject_id": subject_id, "ticket_id": row.ticket_id,
            "from_status": row.from_status, "to_status": row.to_status, "detail": plain(row.detail or {}),
            "before": before, "after": after, "prev_hash": prev,
        }
        digest = event_hash(fields_)
        sql = (
            f"UPDATE audit_event SET seq={mark(1)}, subject_type={mark(2)}, subject_id={mark(3)}, "
            '"before"={}, "after"={}, prev_hash={}, hash={} WHERE id={}'.format(mark(4), mark(5), mark(6), mark(7), mark(8))
        )
        await client.execute_query(sql, [
            seq, subject_type, subject_id, None if before is None else dumps(before),
            None if after is None else dumps(after), prev, digest, row.id,
        ])
        prev = digest
    await client.execute_query(
        f"INSERT INTO audit_chain (id, head_seq, head_hash, checkpoint_seq, checkpoint_hash, pruned_total) "
        f"VALUES ({mark(1)}, {mark(2)}, {mark(3)}, 0, {mark(4)}, 0)",
        [1, len(rows), prev, GENESIS],
    )


class Migration(migrations.Migration):
    dependencies = [("models", "0006_notify")]

    initial = False

    operations = [
        ops.AddField(model_name="AuditEvent", name="seq", field=fields.BigIntField(null=True, db_index=True)),
        ops.AddField(model_name="AuditEvent", name="on_behalf_of", field=fields.CharField(null=True, max_length=64)),
        ops.AddField(model_name="AuditEvent", name="subject_type", field=fields.CharField(null=True, max_length=32)),
        ops.AddField(model_name="AuditEvent", name="subject_id", field=fields.CharField(null=True, max_length=255)),
        ops.AddField(model_name="AuditEvent", name="before", field=_json_field(null=True)),
        ops.AddField(model_name="AuditEvent", name="after", field=_json_field(null=True)),
        ops.AddField(model_name="AuditEvent", name="prev_hash", field=fields.CharField(null=True, max_length=64)),
        ops.AddField(model_name="AuditEvent", name="hash", field=fields.CharField(null=True, max_length=64)),
        ops.CreateModel(
            name="AuditChain",
            fields=[
                ("id", fields.IntField(primary_key=True, generated=False, unique=True, db_index=True)),
                ("head_seq", fields.BigIntField(default=0)),
                ("head_hash", fields.CharField(max_length=64)),
                ("checkpoint_seq", fields.BigIntField(default=0)),
                ("checkpoint_hash", fields.CharField(max_length=64)),
                ("checkpoint_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("pruned_total", fields.BigIntField(default=0)),
            ],
            options={"table": "audit_chain", "app": "models", "pk_attr": "id",
                     "table_description": "One row (id=1): the head of the chain, and the checkpoint pruning left behind."},
            bases=["Model"],
        ),
        ops.RunPython(chain_existing_events),
    ]
