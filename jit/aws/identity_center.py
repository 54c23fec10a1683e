"""Finds the IAM Identity Center instance and its identity store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jit.aws.clients import AwsClients
from jit.config import Settings
from jit.errors import ValidationFailed


@dataclass(frozen=True)
class IdentityCenter:
    instance_arn: str
    identity_store_id: str


async def discover(settings: Settings, aws: AwsClients) -> IdentityCenter:
    """Use the configured instance, or the only one there is."""
    async with aws.client("sso-admin") as sso:
        instances: list[dict[str, Any]] = []
        paginator = sso.get_paginator("list_instances")
        async for page in paginator.paginate():
            instances.extend(page.get("Instances", []))
    if settings.sso_instance_arn:
        for inst in instances:
            if inst["InstanceArn"] == settings.sso_instance_arn:
                return IdentityCenter(inst["InstanceArn"], settings.identity_store_id or inst["IdentityStoreId"])
        if settings.identity_store_id:
            return IdentityCenter(settings.sso_instance_arn, settings.identity_store_id)
        raise ValidationFailed(
            f"IAM Identity Center instance {settings.sso_instance_arn} not found", field="JIT_SSO_INSTANCE_ARN"
        )
    if len(instances) != 1:
        raise ValidationFailed(
            f"found {len(instances)} IAM Identity Center instances; set JIT_SSO_INSTANCE_ARN",
            field="JIT_SSO_INSTANCE_ARN",
        )
    return IdentityCenter(instances[0]["InstanceArn"], instances[0]["IdentityStoreId"])
