"""The policy version: a counter every process compares against its enforcer's."""

from __future__ import annotations

from tortoise.expressions import F

from jit.authz.models import PolicyVersion


async def bump_policy_version() -> None:
    """Call inside the transaction that changes rules, the directory or settings."""
    updated = await PolicyVersion.filter(id=1).update(version=F("version") + 1)
    if not updated:
        await PolicyVersion.create(id=1, version=1)


async def current_policy_version() -> int:
    row = await PolicyVersion.filter(id=1).first()
    return row.version if row else 0
