"""Session activity from CloudWatch Logs Insights, over the log group an organization
trail delivers to (JIT_ACTIVITY_LOG_GROUP). One query covers every granted account; JIT
needs logs:StartQuery and logs:GetQueryResults on that group, in its own account or one
the log group is shared from."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime
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
QUERY_TIMEOUT_SECONDS = 60.0


def _regex_literal(text: str) -> str:
    return re.sub(r"([^A-Za-z0-9_-])", r"\\\1", text)


def build_query(query: SessionQuery, limit: int, before_ms: int | None) -> str:
    roles = "|".join(_regex_literal(prefix) for t in query.targets for prefix in t.role_prefixes())
    accounts = ", ".join(f'"{t.account_id}"' for t in query.targets if t.account_id.isdigit())
    lines = [
        "fields @timestamp, @message",
        f"| filter userIdentity.arn like /:assumed-role\\/({roles})[^\\/]*\\/{_regex_literal(query.session_name)}$/",
        f"| filter recipientAccountId in [{accounts}]",
    ]
    if query.write_only:
        lines.append("| filter readOnly = 0")
    if query.errors_only:
        lines.append("| filter ispresent(errorCode)")
    if before_ms is not None:
        lines.append(f"| filter @timestamp <= {int(before_ms)}")
    lines += ["| sort @timestamp desc", f"| limit {int(limit)}"]
    return "\n".join(lines)


class LogsInsightsSource:
    name = "logs_insights"

    def __init__(self, settings: Settings, aws: AwsClients) -> None:
        self.settings = settings
        self.aws = aws

    async def _run(self, text: str, query: SessionQuery) -> list[dict[str, Any]]:
        async with self.aws.client_as("logs", endpoint_url=self.settings.activity_logs_endpoint_url) as logs:
            started = await logs.start_query(
                logGroupName=self.settings.activity_log_group, queryString=text,
                startTime=int(query.start.timestamp()), endTime=int(query.end.timestamp()) + 1,
            )
            deadline = time.monotonic() + QUERY_TIMEOUT_SECONDS
            while True:
                out = await logs.get_query_results(queryId=started["queryId"])
                if out["status"] == "Complete":
                    return [{f["field"]: f["value"] for f in row} for row in out.get("results", [])]
                if out["status"] in ("Failed", "Cancelled", "Timeout") or time.monotonic() > deadline:
                    raise ValidationFailed(f"the Logs Insights query ended {out['status']}", field="ticketId")
                await asyncio.sleep(POLL_SECONDS)

    async def page(self, query: SessionQuery, limit: int, cursor: str | None) -> ActivityPage:
        """Newest first. The cursor is the oldest timestamp returned and the events already
        returned at that very millisecond, so ties across a page boundary are not lost."""
        if not self.settings.activity_log_group:
            raise ValidationFailed("JIT_ACTIVITY_LOG_GROUP is not set", field="ticketId")
        state = decode_cursor(cursor)
        before, seen = state.get("b"), set(state.get("i", []))
        asked = limit + 1 + len(seen)
        rows = await self._run(build_query(query, asked, before), query)
        events: list[ActivityEvent] = []
        last_ms, at_last = before, set(seen)
        stopped_early = False
        for row in rows:
            record = json.loads(row.get("@message") or "{}")
            event_id = str(record.get("eventID", ""))
            if event_id in seen:
                continue
            if len(events) == limit:
                stopped_early = True
                break
            # Rows are consumed whether or not they are the principal's: the filter in
            # the query should already have left only theirs.
            row_ms = _millis(record.get("eventTime"), row.get("@timestamp"))
            if row_ms != last_ms:
                last_ms, at_last = row_ms, set()
            at_last.add(event_id)
            event = from_cloudtrail_record(record, query)
            if event is not None:
                events.append(event)
        if not stopped_early and len(rows) < asked:
            return ActivityPage(events, None)
        return ActivityPage(events, encode_cursor({"b": last_ms, "i": sorted(at_last)}))


def _millis(event_time: Any, timestamp: Any) -> int:
    text = str(event_time or timestamp or "")
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        return 0
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return int(at.timestamp() * 1000)
