"""Ending sessions that outlive an early revocation.

Deleting an assignment stops new sign-ins, but role sessions already issued stay valid
until the permission set's session duration runs out (up to 12 hours). AWS's documented
remedy is an inline deny on the permission set, conditioned on the person's identity
store user id and on the session having been issued before the revocation:

    {"Sid": "JitKill<ticket><until>", "Effect": "Deny", "Action": "*", "Resource": "*",
     "Condition": {"StringEquals": {"identitystore:userId": "<user id>"},
                   "DateLessThan": {"aws:TokenIssueTime": "<revoked at>"}}}

followed by ProvisionPermissionSet to every account the set is provisioned to. Once the
session duration has passed, no session issued before the revocation can exist, and the
statement is pruned. docs/reliability.md says what this costs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import datetime, timedelta
from typing import Any

from jit.aws.clients import AwsClients

log = logging.getLogger(__name__)
_SID = re.compile(r"^JitKill[0-9a-f]{12}(\d{10})$")


def statement_id(ticket_id: str, user_id: str, until: datetime) -> str:
    digest = hashlib.sha256(f"{ticket_id}:{user_id}".encode()).hexdigest()[:12]
    return f"JitKill{digest}{int(until.timestamp()):010d}"


def deny_statement(sid: str, user_id: str, issued_before: datetime) -> dict[str, Any]:
    return {
        "Sid": sid, "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {
            "StringEquals": {"identitystore:userId": user_id},
            "DateLessThan": {"aws:TokenIssueTime": issued_before.strftime("%Y-%m-%dT%H:%M:%SZ")},
        },
    }


def _prune(statements: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    kept = []
    for st in statements:
        found = _SID.match(str(st.get("Sid", "")))
        if found and int(found.group(1)) <= now.timestamp():
            continue
        kept.append(st)
    return kept


class SessionKill:
    def __init__(self, aws: AwsClients) -> None:
        self._aws = aws

    async def _policy(self, sso: Any, instance_arn: str, ps_arn: str) -> dict[str, Any]:
        raw = (await sso.get_inline_policy_for_permission_set(InstanceArn=instance_arn, PermissionSetArn=ps_arn)).get(
            "InlinePolicy") or ""
        policy = json.loads(raw) if raw.strip() else {}
        policy.setdefault("Version", "2012-10-17")
        statements = policy.get("Statement", [])
        policy["Statement"] = statements if isinstance(statements, list) else [statements]
        return policy

    async def _write(self, sso: Any, instance_arn: str, ps_arn: str, policy: dict[str, Any]) -> str | None:
        if policy["Statement"]:
            await sso.put_inline_policy_to_permission_set(
                InstanceArn=instance_arn, PermissionSetArn=ps_arn, InlinePolicy=json.dumps(policy, separators=(",", ":")))
        else:
            await sso.delete_inline_policy_from_permission_set(InstanceArn=instance_arn, PermissionSetArn=ps_arn)
        status = (await sso.provision_permission_set(
            InstanceArn=instance_arn, PermissionSetArn=ps_arn, TargetType="ALL_PROVISIONED_ACCOUNTS",
        )).get("PermissionSetProvisioningStatus", {})
        request_id: str | None = status.get("RequestId")
        return request_id

    async def deny(
        self, instance_arn: str, ps_arn: str, *, ticket_id: str, user_id: str, issued_before: datetime, session: int,
    ) -> tuple[str, bool]:
        """Adds the deny (once per ticket and user); returns its Sid and whether it was new."""
        until = issued_before + timedelta(seconds=session)
        sid = statement_id(ticket_id, user_id, until)
        async with self._aws.client("sso-admin") as sso:
            policy = await self._policy(sso, instance_arn, ps_arn)
            if any(str(st.get("Sid", "")).startswith(sid[:19]) for st in policy["Statement"]):
                return sid, False
            policy["Statement"] = _prune(policy["Statement"], issued_before) + [deny_statement(sid, user_id, issued_before)]
            await self._write(sso, instance_arn, ps_arn, policy)
        return sid, True

    async def prune(self, instance_arn: str, ps_arn: str, now: datetime) -> int:
        """Removes JIT's deny statements whose sessions have all expired."""
        async with self._aws.client("sso-admin") as sso:
            policy = await self._policy(sso, instance_arn, ps_arn)
            kept = _prune(policy["Statement"], now)
            removed = len(policy["Statement"]) - len(kept)
            if removed:
                policy["Statement"] = kept
                await self._write(sso, instance_arn, ps_arn, policy)
        return removed
