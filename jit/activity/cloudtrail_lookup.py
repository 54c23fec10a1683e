"""Session activity from CloudTrail's LookupEvents, account by account.

LookupEvents reads the management events of one account and region (90 days). JIT
assumes a read-only role (JIT_ACTIVITY_ROLE_NAME) in each granted account, asks for the
events whose Username is the principal's role session name, and keeps those of the
granted permission sets' roles. It needs no organization trail, only the role."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from jit.activity.sources import (
    ActivityEvent,
    ActivityPage,
    SessionQuery,
    SessionTarget,
    decode_cursor,
    encode_cursor,
    from_cloudtrail_record,
)
from jit.aws.clients import AwsClients
from jit.aws.errors import explain
from jit.config import Settings

PAGE = 50  # LookupEvents' largest page


class LookupEventsSource:
    name = "lookup_events"

    def __init__(self, settings: Settings, aws: AwsClients) -> None:
        self.settings = settings
        self.aws = aws
        self._credentials: dict[str, dict[str, str]] = {}

    def _regions(self) -> list[str]:
        return list(self.settings.activity_regions) or [self.settings.aws_region]

    async def _assume(self, account_id: str) -> dict[str, str]:
        if account_id not in self._credentials:
            role_arn = f"arn:aws:iam::{account_id}:role/{self.settings.activity_role_name}"
            async with self.aws.client_as("sts", endpoint_url=self.settings.activity_sts_endpoint_url) as sts:
                out = await sts.assume_role(RoleArn=role_arn, RoleSessionName="jit-session-activity", DurationSeconds=900)
            self._credentials[account_id] = out["Credentials"]
        return self._credentials[account_id]

    async def _lookup(self, target: SessionTarget, region: str, query: SessionQuery, token: str | None) -> dict[str, Any]:
        credentials = await self._assume(target.account_id)
        kwargs: dict[str, Any] = {
            "LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": query.session_name}],
            "StartTime": query.start, "EndTime": query.end, "MaxResults": PAGE,
        }
        if token:
            kwargs["NextToken"] = token
        async with self.aws.client_as(
            "cloudtrail", credentials=credentials, region=region,
            endpoint_url=self.settings.activity_cloudtrail_endpoint_url,
        ) as cloudtrail:
            response: dict[str, Any] = await cloudtrail.lookup_events(**kwargs)
            return response

    async def page(self, query: SessionQuery, limit: int, cursor: str | None) -> ActivityPage:
        """Newest first within each account and region, accounts in ticket order. The cursor
        is (stream, LookupEvents token, events already returned from that upstream page),
        so a page can end in the middle of an upstream page and the next one resumes there."""
        streams = [(t, region) for t in query.targets for region in self._regions()]
        state = decode_cursor(cursor)
        index, token, skip = int(state.get("s", 0)), state.get("t"), int(state.get("k", 0))
        events: list[ActivityEvent] = []
        unavailable: list[str] = []
        while index < len(streams) and len(events) < limit:
            target, region = streams[index]
            try:
                response = await self._lookup(target, region, query, token)
            except ClientError as exc:
                unavailable.append(f"{target.account_id} {region}: {explain(exc)}")
                index, token, skip = index + 1, None, 0
                continue
            matched = [
                event for item in response.get("Events", [])
                if (event := from_cloudtrail_record(json.loads(item.get("CloudTrailEvent") or "{}"), query)) is not None
                and event.account_id == target.account_id
            ][skip:]
            room = limit - len(events)
            if len(matched) > room:
                events.extend(matched[:room])
                return ActivityPage(events, encode_cursor({"s": index, "t": token, "k": skip + room}), unavailable)
            events.extend(matched)
            skip = 0
            if response.get("NextToken"):
                token = response["NextToken"]
            else:
                index, token = index + 1, None
        more = index < len(streams)
        return ActivityPage(events, encode_cursor({"s": index, "t": token, "k": 0}) if more else None, unavailable)
