"""Session activity from a CloudTrail Lake event data store of an organization trail
(JIT_ACTIVITY_LAKE_EVENT_DATA_STORE). One SQL query covers every granted account; JIT
needs cloudtrail:StartQuery and cloudtrail:GetQueryResults on the data store. Lake keeps
a query's results, so later pages reuse the query instead of running it again."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC
from typing import Any

from jit.activity.sources import (
    ActivityEvent,
    ActivityPage,
    SessionQuery,
    decode_cursor,
    encode_cursor,
    from_cloudtrail_record,
)
from jit.aws.clients import AwsClients
from jit.config import Settings
from jit.errors import ValidationFailed

POLL_SECONDS = 0.5
QUERY_TIMEOUT_SECONDS = 120.0
_STORE = re.compile(r"^(arn:aws[\w-]*:cloudtrail:[\w-]+:\d{12}:eventdatastore/)?[A-Za-z0-9-]{1,64}$")
COLUMNS = ("eventID", "eventTime", "eventName", "eventSource", "awsRegion", "recipientAccountId",
           "sourceIPAddress", "userAgent", "errorCode", "readOnly")


def _sql_text(value: str) -> str:
    return value.replace("'", "''")


def build_sql(store: str, query: SessionQuery) -> str:
    store_id = store.rsplit("/", 1)[-1]
    accounts = ", ".join(f"'{t.account_id}'" for t in query.targets if t.account_id.isdigit())
    roles = " OR ".join(
        f"userIdentity.arn LIKE '%:assumed-role/{_sql_text(p)}%/{_sql_text(query.session_name)}'"
        for t in query.targets for p in t.role_prefixes()
    )
    fmt = "%Y-%m-%d %H:%M:%S"
    return (
        f"SELECT {', '.join(COLUMNS)}, userIdentity.arn AS sessionArn FROM {store_id} "
        f"WHERE eventTime >= '{query.start.astimezone(UTC).strftime(fmt)}' "
        f"AND eventTime <= '{query.end.astimezone(UTC).strftime(fmt)}' "
        f"AND recipientAccountId IN ({accounts}) AND ({roles})"
        + (" AND readOnly = false" if query.write_only else "")
        + (" AND errorCode IS NOT NULL" if query.errors_only else "")
        + " ORDER BY eventTime DESC"
    )


def _record(row: list[dict[str, Any]]) -> dict[str, Any]:
    cells = {k: v for cell in row for k, v in cell.items()}
    when = cells.get("eventTime") or ""
    if when and "T" not in when:
        when = when.replace(" ", "T") + ("" if when.endswith("Z") else "Z")
    read_only = cells.get("readOnly")
    return {
        **{k: cells.get(k) for k in COLUMNS}, "eventTime": when,
        "readOnly": read_only if isinstance(read_only, bool) else str(read_only).lower() == "true",
        "userIdentity": {"type": "AssumedRole", "arn": cells.get("sessionArn")},
    }


class CloudTrailLakeSource:
    name = "lake"

    def __init__(self, settings: Settings, aws: AwsClients) -> None:
        self.settings = settings
        self.aws = aws

    async def page(self, query: SessionQuery, limit: int, cursor: str | None) -> ActivityPage:
        store = self.settings.activity_lake_event_data_store
        if not store or not _STORE.match(store):
            raise ValidationFailed("JIT_ACTIVITY_LAKE_EVENT_DATA_STORE is not set to an event data store", field="ticketId")
        state = decode_cursor(cursor)
        query_id, token, skip = state.get("q"), state.get("t"), int(state.get("k", 0))
        async with self.aws.client_as("cloudtrail", endpoint_url=self.settings.activity_cloudtrail_endpoint_url) as ct:
            if query_id is None:
                query_id = (await ct.start_query(QueryStatement=build_sql(store, query)))["QueryId"]
            events: list[ActivityEvent] = []
            deadline = time.monotonic() + QUERY_TIMEOUT_SECONDS
            while len(events) < limit:
                kwargs: dict[str, Any] = {"QueryId": query_id, "MaxQueryResults": 1000}
                if token:
                    kwargs["NextToken"] = token
                out = await ct.get_query_results(**kwargs)
                status = out.get("QueryStatus")
                if status in ("QUEUED", "RUNNING"):
                    if time.monotonic() > deadline:
                        raise ValidationFailed("the CloudTrail Lake query is still running; try again", field="ticketId")
                    await asyncio.sleep(POLL_SECONDS)
                    continue
                if status != "FINISHED":
                    raise ValidationFailed(f"the CloudTrail Lake query ended {status}", field="ticketId")
                matched = [e for row in out.get("QueryResultRows", [])
                           if (e := from_cloudtrail_record(_record(row), query)) is not None][skip:]
                room = limit - len(events)
                if len(matched) > room:
                    events.extend(matched[:room])
                    return ActivityPage(events, encode_cursor({"q": query_id, "t": token, "k": skip + room}))
                events.extend(matched)
                skip = 0
                token = out.get("NextToken")
                if not token:
                    return ActivityPage(events, None)
        return ActivityPage(events, encode_cursor({"q": query_id, "t": token, "k": 0}))
