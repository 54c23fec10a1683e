"""Builds aioboto3 clients. The only place that knows about endpoints and credentials.

With `JIT_AWS_ENDPOINT_URL` unset the default credential chain and real AWS endpoints are
used; the demo and the tests point it at moto in server mode.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aioboto3
from botocore.config import Config

from jit.config import Settings

# Throttling and transient errors are retried by botocore with client-side rate limiting.
_RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 10}, connect_timeout=10, read_timeout=30)


class AwsClients:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._session = aioboto3.Session()

    @asynccontextmanager
    async def client(self, service: str) -> AsyncIterator[Any]:
        kwargs: dict[str, Any] = {"region_name": self._settings.aws_region, "config": _RETRIES}
        if self._settings.aws_endpoint_url:
            kwargs["endpoint_url"] = self._settings.aws_endpoint_url
        async with self._session.client(service, **kwargs) as client:
            yield client

    @asynccontextmanager
    async def client_as(
        self, service: str, *, credentials: dict[str, str] | None = None, region: str | None = None,
        endpoint_url: str | None = None,
    ) -> AsyncIterator[Any]:
        """A client with other credentials (a role assumed in a member account), region or
        endpoint (a CloudTrail- or Logs-compatible service); unset parts are as `client`."""
        kwargs: dict[str, Any] = {"region_name": region or self._settings.aws_region, "config": _RETRIES}
        endpoint = endpoint_url or self._settings.aws_endpoint_url
        if endpoint:
            kwargs["endpoint_url"] = endpoint
        if credentials:
            kwargs.update(
                aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials.get("SessionToken"),
            )
        async with self._session.client(service, **kwargs) as client:
            yield client
