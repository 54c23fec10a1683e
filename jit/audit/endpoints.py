"""`GET /audit/export`: the filtered audit log as CSV or JSON, streamed in batches so a
large range never sits in memory. Authorized like `auditEvents`: a READ-scoped caller who
is an admin or an auditor (docs/audit.md, "Query and export")."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from jit.audit.chain import timestamp
from jit.audit.queries import AuditFilter, as_record, stream
from jit.auth.scopes import Scope
from jit.auth.service import Identity
from jit.errors import DomainError, NotAllowed, ValidationFailed
from jit.runtime import Runtime

CSV_COLUMNS = ("seq", "at", "action", "actor_id", "on_behalf_of", "subject_type", "subject_id", "ticket_id",
               "from_status", "to_status", "detail", "before", "after", "prev_hash", "hash")


def _time(params: QueryParams, name: str) -> datetime | None:
    text = params.get(name)
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(f"{text!r} is not an ISO 8601 time", field=name) from None


def parse_filter(params: QueryParams) -> AuditFilter:
    """The same filter as `auditEvents(filter:)`, from query parameters (types comma-separated)."""
    types = [t for value in params.getlist("types") for t in value.split(",") if t.strip()]
    flt = AuditFilter(
        actor_id=params.get("actorId") or None, subject_type=params.get("subjectType") or None,
        subject_id=params.get("subjectId") or None, ticket_id=params.get("ticketId") or None,
        actions=[t.strip() for t in types], since=_time(params, "since"), until=_time(params, "until"),
    )
    flt.check()
    return flt


# A cell a spreadsheet would read as a formula: requesters write justifications, and an
# auditor opens the export in Excel (OWASP, "CSV injection"). The JSON export is verbatim.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


async def _csv(flt: AuditFilter) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    async for event in stream(flt):
        record = as_record(event)
        writer.writerow([_cell(record.get(c)) for c in CSV_COLUMNS])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


async def _json(flt: AuditFilter) -> AsyncIterator[str]:
    # One JSON array, written as it is read: a valid document however many events there are.
    yield "["
    first = True
    async for event in stream(flt):
        yield ("\n" if first else ",\n") + json.dumps(as_record(event), sort_keys=True, ensure_ascii=False)
        first = False
    yield "\n]\n"


def _error(status: int, code: str, exc: DomainError) -> JSONResponse:
    return JSONResponse({"errors": [{"message": exc.message, "extensions": {"code": code, "field": exc.field}}]},
                        status_code=status)


async def export(rt: Runtime, identity: Identity, request: Request) -> Response:
    params = request.query_params
    try:
        if not identity.allows(frozenset({Scope.READ})):
            raise NotAllowed("exporting the audit log needs the read scope")
        if not await rt.authz.is_admin_or_auditor(identity.user.id):
            raise NotAllowed("only admins and auditors may read the audit log")
        kind = params.get("format", "csv")
        if kind not in ("csv", "json"):
            raise ValidationFailed(f"{kind!r} is not csv or json", field="format")
        flt = parse_filter(params)
    except NotAllowed as exc:
        return _error(403, "NOT_ALLOWED", exc)
    except ValidationFailed as exc:
        return _error(400, "VALIDATION", exc)
    name = f"jit-audit-{timestamp(rt.clock.now())[:19].replace(':', '')}.{kind}"
    media = "text/csv; charset=utf-8" if kind == "csv" else "application/json"
    return StreamingResponse(_csv(flt) if kind == "csv" else _json(flt), media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="{name}"',
                                      "Cache-Control": "no-store"})
