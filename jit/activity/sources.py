"""What a session-activity source is: given who, where and when, a page of CloudTrail
events. Sources differ in where they read (docs/audit.md#session-activity)."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from jit.errors import ValidationFailed


@dataclass(frozen=True)
class SessionTarget:
    """One account the ticket granted, and the permission sets granted there. Identity
    Center names the role in the account AWSReservedSSO_<PermissionSetName>_<suffix>."""

    account_id: str
    permission_sets: tuple[str, ...]

    def role_prefixes(self) -> tuple[str, ...]:
        return tuple(f"AWSReservedSSO_{name}_" for name in self.permission_sets)


@dataclass(frozen=True)
class SessionQuery:
    """The principal's role sessions in the granted accounts during the window."""

    session_name: str  # Identity Center's role session name: the user's user name
    targets: tuple[SessionTarget, ...]
    start: datetime
    end: datetime
    write_only: bool = False  # only calls that change something (readOnly false)
    errors_only: bool = False  # only calls AWS refused or failed (an errorCode)

    def keeps(self, read_only: bool | None, error_code: str | None) -> bool:
        if self.write_only and read_only is not False:
            return False
        return not (self.errors_only and not error_code)


@dataclass
class ActivityEvent:
    event_id: str
    event_time: datetime
    event_name: str
    event_source: str
    account_id: str
    region: str
    role_name: str
    session_arn: str
    source_ip: str | None = None
    user_agent: str | None = None
    error_code: str | None = None
    read_only: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class ActivityPage:
    events: list[ActivityEvent]
    next_cursor: str | None
    # Accounts (or regions) that could not be read, with AWS's reason: the page is partial.
    unavailable: list[str] = field(default_factory=list)


def read_only_of(value: Any) -> bool | None:
    """CloudTrail's readOnly is a boolean in records and a string in some query results."""
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).lower()
    return True if text == "true" else False if text == "false" else None


class ActivitySource(Protocol):
    name: str

    async def page(self, query: SessionQuery, limit: int, cursor: str | None) -> ActivityPage: ...


def encode_cursor(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        raise ValidationFailed(f"{cursor!r} is not a session activity cursor", field="after") from None
    if not isinstance(state, dict):
        raise ValidationFailed(f"{cursor!r} is not a session activity cursor", field="after")
    return state


_ROLE_SESSION = re.compile(r"^arn:aws[\w-]*:sts::(\d{12}):assumed-role/([^/]+)/(.+)$")


def from_cloudtrail_record(record: dict[str, Any], query: SessionQuery) -> ActivityEvent | None:
    """The event, when it was made by the principal's role session of a granted permission
    set in a granted account; otherwise None (another person, role or account)."""
    identity = record.get("userIdentity") or {}
    arn = identity.get("arn") or ""
    match = _ROLE_SESSION.match(arn)
    if not match:
        return None
    account, role, session = match.groups()
    if session.lower() != query.session_name.lower():
        return None
    target = next((t for t in query.targets if t.account_id == account), None)
    if target is None or not role.startswith(target.role_prefixes()):
        return None
    when = record.get("eventTime")
    at = datetime.fromisoformat(when.replace("Z", "+00:00")) if isinstance(when, str) else when
    if at is None or not (query.start <= at <= query.end):
        return None
    read_only, error_code = read_only_of(record.get("readOnly")), record.get("errorCode") or None
    if not query.keeps(read_only, error_code):
        return None
    return ActivityEvent(
        event_id=str(record.get("eventID", "")), event_time=at, event_name=str(record.get("eventName", "")),
        event_source=str(record.get("eventSource", "")), account_id=account,
        region=str(record.get("awsRegion", "")), role_name=role, session_arn=arn,
        source_ip=record.get("sourceIPAddress"), user_agent=record.get("userAgent"),
        error_code=error_code, read_only=read_only, raw=record,
    )
