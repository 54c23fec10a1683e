"""Credentials (docs/security.md, "Credentials"): a token's lineage and who minted it, why it
ended, and the credential behind every decision.

Tokens an admin minted for someone else through the API before this migration are found
in the audit log (token.created with on_behalf_of) and marked, so they never decide."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0010_drift_scan")]

    initial = False

    operations = [
        ops.AddField(model_name="ApiToken", name="revoked_reason", field=fields.CharField(null=True, max_length=32)),
        ops.AddField(model_name="ApiToken", name="parent_token_id", field=fields.IntField(null=True, db_index=True)),
        ops.AddField(model_name="ApiToken", name="parent_session_id", field=fields.IntField(null=True, db_index=True)),
        ops.AddField(model_name="ApiToken", name="minted_by", field=fields.CharField(null=True, max_length=160)),
        ops.AddField(model_name="ApiToken", name="minted_for_other", field=fields.BooleanField(default=False)),
        ops.AddField(model_name="Decision", name="credential", field=fields.CharField(null=True, max_length=32)),
        ops.AddField(model_name="ExtensionDecision", name="credential", field=fields.CharField(null=True, max_length=32)),
        ops.AddField(model_name="RuleChange", name="proposed_credential", field=fields.CharField(null=True, max_length=32)),
        ops.AddField(model_name="RuleChange", name="decided_credential", field=fields.CharField(null=True, max_length=32)),
        ops.RunSQL(
            [
                "UPDATE api_token SET minted_for_other = TRUE, minted_by = 'user:' || ("
                "SELECT e.actor_id FROM audit_event e WHERE e.action = 'token.created' AND e.subject_type = 'token' "
                "AND e.subject_id = CAST(api_token.id AS VARCHAR(32)) AND e.on_behalf_of IS NOT NULL "
                "AND e.actor_id IS NOT NULL ORDER BY e.id LIMIT 1) "
                "WHERE EXISTS (SELECT 1 FROM audit_event e WHERE e.action = 'token.created' AND e.subject_type = 'token' "
                "AND e.subject_id = CAST(api_token.id AS VARCHAR(32)) AND e.on_behalf_of IS NOT NULL "
                "AND e.actor_id IS NOT NULL)",
            ],
            reverse_sql=[],
        ),
    ]
