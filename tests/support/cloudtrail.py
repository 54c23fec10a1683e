"""A small CloudTrail- and CloudWatch-Logs-compatible endpoint for the session activity
tests (moto does not implement LookupEvents, Lake queries or Logs Insights).

It speaks the AWS JSON 1.1 protocol over real HTTP, so the real aioboto3 clients talk to
it unpatched. Like AWS, it answers each caller with the events of the caller's own
account. It sits in front of moto's STS as the tests' STS endpoint and passes every STS
request through to moto unchanged, noting which account each AssumeRole's access key
belongs to, the way credentials from AssumeRole carry their account in AWS.
Logs Insights and Lake queries are not parsed; they return the organization trail's
events in the queried window, and tests check the query text that was sent."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from jit.demo.embedded import free_port

_CREDENTIAL = re.compile(r"Credential=([^/]+)/")


def cloudtrail_record(account_id: str, role: str, session: str, name: str, at: datetime, **extra: Any) -> dict:
    return {
        "eventVersion": "1.09", "eventID": str(uuid.uuid4()), "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventName": name, "eventSource": extra.pop("source", "s3.amazonaws.com"), "awsRegion": "us-east-1",
        "recipientAccountId": account_id, "sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2",
        "readOnly": extra.pop("read_only", True),
        "userIdentity": {"type": "AssumedRole", "arn": f"arn:aws:sts::{account_id}:assumed-role/{role}/{session}",
                         "accountId": account_id}, **extra,
    }


class FakeCloudTrail:
    def __init__(self, sts_endpoint: str) -> None:
        self.sts_endpoint = sts_endpoint
        self.records: list[dict] = []
        self.denied: set[str] = set()  # accounts whose LookupEvents refuses
        self.denied_roles: set[str] = set()  # accounts whose reader role cannot be assumed
        self._key_accounts: dict[str, str] = {}
        self.calls: list[tuple[str, str | None, dict]] = []  # (target, account, body)
        self.queries: list[str] = []  # Logs Insights and Lake query texts, as sent
        self._queries: dict[str, list[dict]] = {}
        self._lock = threading.Lock()
        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeCloudTrail:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.records.clear()
            self.denied.clear()
            self.denied_roles.clear()
            self.calls.clear()
            self.queries.clear()
            self._queries.clear()

    def _account_of(self, authorization: str) -> str | None:
        match = _CREDENTIAL.search(authorization or "")
        return self._key_accounts.get(match.group(1)) if match else None

    def _sts(self, raw: bytes, headers: dict[str, str]) -> tuple[int, bytes, str]:
        """Passes an STS request to moto; remembers the account of AssumeRole's keys."""
        form = urllib.parse.parse_qs(raw.decode())
        role_arn = (form.get("RoleArn") or [""])[0]
        account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else None
        if account in self.denied_roles:
            body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no role "
                    f"{role_arn} may be assumed</Message></Error></ErrorResponse>").encode()
            return 403, body, "text/xml"
        request = urllib.request.Request(self.sts_endpoint + "/", data=raw, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, body, kind = response.status, response.read(), response.headers.get("Content-Type", "text/xml")
        except urllib.error.HTTPError as exc:
            status, body, kind = exc.code, exc.read(), exc.headers.get("Content-Type", "text/xml")
        key = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", body)
        if key and account:
            self._key_accounts[key.group(1).decode()] = account
        return status, body, kind

    # --- operations -------------------------------------------------------------------

    def lookup_events(self, account: str | None, body: dict) -> tuple[int, dict]:
        if account in self.denied:
            return 400, {"__type": "AccessDeniedException", "message": f"not authorized in {account}"}
        attributes = body.get("LookupAttributes") or []
        username = next((a["AttributeValue"] for a in attributes if a["AttributeKey"] == "Username"), None)
        start, end = body.get("StartTime"), body.get("EndTime")
        rows = [r for r in self.records if r["recipientAccountId"] == account]
        if username is not None:
            rows = [r for r in rows if r["userIdentity"]["arn"].rsplit("/", 1)[-1] == username]
        rows = [r for r in rows if _in_window(r, start, end)]
        rows.sort(key=lambda r: r["eventTime"], reverse=True)
        offset = int(body.get("NextToken") or 0)
        size = int(body.get("MaxResults") or 50)
        page = rows[offset:offset + size]
        out: dict[str, Any] = {"Events": [{
            "EventId": r["eventID"], "EventName": r["eventName"], "EventSource": r["eventSource"],
            "EventTime": _epoch(r["eventTime"]), "Username": username, "Resources": [],
            "ReadOnly": str(r["readOnly"]).lower(),
            "CloudTrailEvent": json.dumps(r),
        } for r in page]}
        if offset + size < len(rows):
            out["NextToken"] = str(offset + size)
        return 200, out

    def start_logs_query(self, body: dict) -> tuple[int, dict]:
        self.queries.append(body.get("queryString", ""))
        rows = [r for r in self.records if _in_window(r, body.get("startTime"), body.get("endTime"))]
        before = re.search(r"filter @timestamp <= (\d+)", body.get("queryString", ""))
        if before:
            rows = [r for r in rows if _epoch(r["eventTime"]) * 1000 <= int(before.group(1))]
        rows.sort(key=lambda r: r["eventTime"], reverse=True)
        match = re.search(r"\|\s*limit\s+(\d+)", body.get("queryString", ""))
        rows = rows[: int(match.group(1))] if match else rows
        query_id = str(uuid.uuid4())
        self._queries[query_id] = [[{"field": "@timestamp", "value": r["eventTime"]},
                                    {"field": "@message", "value": json.dumps(r)}] for r in rows]
        return 200, {"queryId": query_id}

    def get_logs_results(self, body: dict) -> tuple[int, dict]:
        rows = self._queries.get(body.get("queryId"))
        if rows is None:
            return 400, {"__type": "ResourceNotFoundException", "message": "unknown query"}
        return 200, {"status": "Complete", "results": rows, "statistics": {"recordsMatched": len(rows)}}

    def start_lake_query(self, body: dict) -> tuple[int, dict]:
        query_id = str(uuid.uuid4())
        self.queries.append(body.get("QueryStatement", ""))
        rows = sorted(self.records, key=lambda r: r["eventTime"], reverse=True)
        columns = ("eventID", "eventName", "eventSource", "awsRegion", "recipientAccountId",
                   "sourceIPAddress", "userAgent", "errorCode")
        self._queries[query_id] = [
            [{"eventTime": r["eventTime"].replace("T", " ").replace("Z", ".000")},
             {"readOnly": str(r["readOnly"]).lower()}]
            + [{c: r.get(c)} for c in columns] + [{"sessionArn": r["userIdentity"]["arn"]}]
            for r in rows
        ]
        return 200, {"QueryId": query_id}

    def get_lake_results(self, body: dict) -> tuple[int, dict]:
        rows = self._queries.get(body.get("QueryId"))
        if rows is None:
            return 400, {"__type": "QueryIdNotFoundException", "message": "unknown query"}
        offset = int(body.get("NextToken") or 0)
        size = int(body.get("MaxQueryResults") or 1000)
        out: dict[str, Any] = {"QueryStatus": "FINISHED", "QueryResultRows": rows[offset:offset + size]}
        if offset + size < len(rows):
            out["NextToken"] = str(offset + size)
        return 200, out

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                if not self.headers.get("X-Amz-Target"):
                    raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                    status, data, kind = fake._sts(raw, headers)
                    return self._reply(status, data, kind)
                # Newer SDKs send the fully qualified shape id (com.amazonaws.cloudtrail.v20131101.
                # CloudTrail_20131101.LookupEvents); the last two parts are the classic target.
                target = ".".join(self.headers.get("X-Amz-Target", "").split(".")[-2:])
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                account = fake._account_of(self.headers.get("Authorization", ""))
                with fake._lock:
                    fake.calls.append((target, account, body))
                    routes = {
                        "CloudTrail_20131101.LookupEvents": lambda: fake.lookup_events(account, body),
                        "CloudTrail_20131101.StartQuery": lambda: fake.start_lake_query(body),
                        "CloudTrail_20131101.GetQueryResults": lambda: fake.get_lake_results(body),
                        "Logs_20140328.StartQuery": lambda: fake.start_logs_query(body),
                        "Logs_20140328.GetQueryResults": lambda: fake.get_logs_results(body),
                    }
                    route = routes.get(target)
                    unknown = {"__type": "UnknownOperationException", "message": target}
                    status, out = route() if route else (400, unknown)
                self._reply(status, json.dumps(out).encode(), "application/x-amz-json-1.1")

            def _reply(self, status: int, data: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _in_window(record: dict, start: Any, end: Any) -> bool:
    at = _epoch(record["eventTime"])
    return (start is None or at >= float(start)) and (end is None or at <= float(end))
