"""What the console's audit log page needs from the server: a ticket filter, CSV and JSON
export of the filtered set (streamed, authorized like auditEvents), and the chain's
verification status with a background "verify now" for admins."""

from __future__ import annotations

import csv
import io
import json

from tortoise import connections

from jit.audit import verifications
from jit.audit.models import AuditEvent
from jit.audit.service import record

EVENTS = """
query($filter: AuditEventFilter) {
  auditEvents(filter: $filter, first: 50) {
    __typename
    ... on AuditEventConnection { edges { node { action ticketId } } }
    ... on Error { message field }
  }
}"""

STATUS = """
query { auditChainStatus {
  __typename
  ... on AuditChainStatus { lastResult { status trigger checked headSeq brokenSeq reason finishedAt }
                            inProgress { id status } }
  ... on Error { message }
} }"""

VERIFY = """
mutation { verifyAuditChain {
  __typename
  ... on AuditVerificationRequested { queued verification { id status trigger requestedBy } }
  ... on Error { message }
} }"""


async def _token(api, rt, user):
    return {"Authorization": f"Bearer {await api.token(rt, user)}"}


async def test_events_filter_by_ticket(api, demo):
    rt = demo.rt
    mine = await demo.request("alice", [("payments-prod", "ReadOnlyAccess")])
    other = await demo.request("erin", [("payments-prod", "ReadOnlyAccess")])
    out = (await api.as_(rt, "audrey", EVENTS, filter={"ticketId": str(mine.id)}))["auditEvents"]
    assert out["__typename"] == "AuditEventConnection"
    assert out["edges"] and {e["node"]["ticketId"] for e in out["edges"]} == {str(mine.id)}
    assert str(other.id) not in json.dumps(out)
    bad = (await api.as_(rt, "audrey", EVENTS, filter={"ticketId": "not-a-ticket"}))["auditEvents"]
    assert bad["__typename"] == "ValidationError" and bad["field"] == "ticketId"


async def test_export_streams_the_filtered_set_as_csv_and_json(api, demo):
    rt = demo.rt
    bob = await demo.user("bob")
    for i in range(3):
        rt.clock.advance(minutes=1)
        await record(rt.clock.now(), bob.id, "delegation.created", subject_id=f"d{i}", after={"n": i, "note": "a,b"})
    await record(rt.clock.now(), None, "drift.detected", subject_id="f1")
    headers = await _token(api, rt, "audrey")

    response = await api.client.get("/audit/export", params={"format": "csv", "actorId": bob.id,
                                                            "types": "delegation.created"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["subject_id"] for r in rows] == ["d0", "d1", "d2"]
    assert json.loads(rows[0]["after"]) == {"n": 0, "note": "a,b"} and rows[0]["actor_id"] == bob.id
    assert len(rows[0]["hash"]) == 64

    response = await api.client.get("/audit/export", params={"format": "json", "types": "drift.detected"},
                                    headers=await _token(api, rt, "admin"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    events = json.loads(response.text)
    assert [(e["action"], e["subject_id"]) for e in events] == [("drift.detected", "f1")]
    last = await AuditEvent.filter(action="drift.detected").first()
    assert events[0]["hash"] == last.hash and events[0]["seq"] == last.seq

    empty = await api.client.get("/audit/export", params={"format": "json", "types": "nothing.happened"}, headers=headers)
    assert json.loads(empty.text) == []


async def test_the_csv_export_never_hands_a_spreadsheet_a_formula(api, demo):
    rt = demo.rt
    await record(rt.clock.now(), None, "drift.detected", subject_id='=HYPERLINK("https://evil.example","x")')
    await record(rt.clock.now(), None, "drift.detected", subject_id="-2+3")
    await record(rt.clock.now(), None, "drift.detected", subject_id="plain")
    headers = await _token(api, rt, "audrey")
    response = await api.client.get("/audit/export", params={"format": "csv", "types": "drift.detected"}, headers=headers)
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["subject_id"] for r in rows] == ["'=HYPERLINK(\"https://evil.example\",\"x\")", "'-2+3", "plain"]
    as_json = await api.client.get("/audit/export", params={"format": "json", "types": "drift.detected"}, headers=headers)
    assert [e["subject_id"] for e in json.loads(as_json.text)][:2] == ['=HYPERLINK("https://evil.example","x")', "-2+3"]


async def test_export_is_refused_like_audit_events(api, demo):
    rt = demo.rt
    await record(rt.clock.now(), None, "drift.detected", subject_id="f1")
    refused = await api.client.get("/audit/export", params={"format": "csv"}, headers=await _token(api, rt, "erin"))
    assert refused.status_code == 403 and "f1" not in refused.text
    assert refused.json()["errors"][0]["extensions"]["code"] == "NOT_ALLOWED"
    anonymous = await api.client.get("/audit/export", params={"format": "csv"})
    assert anonymous.status_code == 401
    headers = await _token(api, rt, "audrey")
    bad = await api.client.get("/audit/export", params={"format": "xml"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["errors"][0]["extensions"]["field"] == "format"
    bad = await api.client.get("/audit/export", params={"since": "yesterday"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["errors"][0]["extensions"]["field"] == "since"
    # A token without the read scope may not export either.
    from jit.auth.scopes import Scope
    from jit.auth.service import create_token

    decide_only, _ = await create_token(rt.clock, "audrey", "decide-only", scopes=frozenset({Scope.DECIDE}))
    scoped = await api.client.get("/audit/export", headers={"Authorization": f"Bearer {decide_only}"})
    assert scoped.status_code == 403


async def test_verify_now_runs_in_the_background_and_records_the_result(api, demo):
    rt = demo.rt
    for i in range(3):
        await record(rt.clock.now(), None, "drift.detected", subject_id=f"f{i}")

    status = (await api.as_(rt, "audrey", STATUS))["auditChainStatus"]
    assert status == {"__typename": "AuditChainStatus", "lastResult": None, "inProgress": None}
    refused = (await api.as_(rt, "bob", STATUS))["auditChainStatus"]
    assert refused["__typename"] == "NotAllowedError"
    # Auditors read the status; only admins start a verification.
    assert (await api.as_(rt, "audrey", VERIFY))["verifyAuditChain"]["__typename"] == "NotAllowedError"

    started = (await api.as_(rt, "admin", VERIFY))["verifyAuditChain"]
    assert started["__typename"] == "AuditVerificationRequested" and started["queued"] is True
    run_id = int(started["verification"]["id"])
    again = (await api.as_(rt, "admin", VERIFY))["verifyAuditChain"]
    assert again["queued"] is False and int(again["verification"]["id"]) == run_id
    assert await rt.redis.zscore("arq:queue", verifications.job_id(run_id)) is not None
    waiting = (await api.as_(rt, "audrey", STATUS))["auditChainStatus"]
    assert waiting["inProgress"]["status"] == "QUEUED" and waiting["lastResult"] is None
    requested = await AuditEvent.filter(action="audit.verification_requested").first()
    assert requested is not None and requested.subject_id == str(run_id)

    assert (await verifications.run(rt, run_id))["status"] == "OK"
    assert (await verifications.run(rt, run_id)) == {"skipped": "finished"}  # a second delivery does nothing
    done = (await api.as_(rt, "audrey", STATUS))["auditChainStatus"]
    assert done["inProgress"] is None
    assert done["lastResult"]["status"] == "OK" and done["lastResult"]["trigger"] == "MANUAL"
    assert done["lastResult"]["checked"] == done["lastResult"]["headSeq"] >= 4 and done["lastResult"]["finishedAt"]

    tampered = await AuditEvent.filter(action="drift.detected", subject_id="f1").first()
    await connections.get("default").execute_script(f"UPDATE audit_event SET subject_id = 'x' WHERE id = {tampered.id}")
    second = (await api.as_(rt, "admin", VERIFY))["verifyAuditChain"]
    await verifications.run(rt, int(second["verification"]["id"]))
    broken = (await api.as_(rt, "admin", STATUS))["auditChainStatus"]["lastResult"]
    assert broken["status"] == "BROKEN" and broken["brokenSeq"] == tampered.seq
    assert "do not match its hash" in broken["reason"]
