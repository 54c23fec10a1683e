"""The drift and revoke-alert API: who may see it, and removal as a typed result."""

from __future__ import annotations

from jit.reconcile import drift, drift_scans

DRIFT = "{ drift { id accountId principalId permissionSet { name } user { userName } } }"
REMOVE = """mutation($id: ID, $all: Boolean! = false) { removeDrift(id: $id, all: $all) {
  __typename ... on DriftRemoval { removed { id resolution } kept { id } failed }
  ... on Error { message field } } }"""


def _out_of_band(demo, account, user):
    demo.sso().create_account_assignment(
        InstanceArn=demo.org.instance_arn, TargetId=demo.account(account), TargetType="AWS_ACCOUNT",
        PermissionSetArn=demo.ps("PowerUserAccess"), PrincipalType="USER", PrincipalId=demo.org.users[user],
    )


async def test_admins_and_auditors_see_drift_others_do_not(api, demo):
    _out_of_band(demo, "sandbox-erin", "erin")
    await drift.scan(demo.rt)
    for user in ("admin", "audrey"):
        data = await api.as_(demo.rt, user, DRIFT)
        assert [(d["permissionSet"]["name"], d["user"]["userName"]) for d in data["drift"]] == [("PowerUserAccess", "erin")]
    body = (await api.raw(DRIFT, token=await api.token(demo.rt, "alice"))).json()
    assert body["data"] is None and "only admins and auditors" in body["errors"][0]["message"]


async def test_remove_one_or_all_and_bad_input(api, demo):
    _out_of_band(demo, "sandbox-erin", "erin")
    _out_of_band(demo, "sandbox-shared", "alice")
    assert (await drift.scan(demo.rt)).new == 2
    first = (await api.as_(demo.rt, "admin", DRIFT))["drift"][0]["id"]

    denied = await api.as_(demo.rt, "alice", REMOVE, id=first)
    assert denied["removeDrift"]["__typename"] == "NotAllowedError"
    neither = await api.as_(demo.rt, "admin", REMOVE)
    assert neither["removeDrift"] == {"__typename": "ValidationError", "message": "give either id or all: true", "field": "id"}
    missing = await api.as_(demo.rt, "admin", REMOVE, id="999999")
    assert missing["removeDrift"]["__typename"] == "NotFoundError"

    one = await api.as_(demo.rt, "admin", REMOVE, id=first)
    assert one["removeDrift"]["removed"] == [{"id": first, "resolution": "REMOVED"}]
    rest = await api.as_(demo.rt, "admin", REMOVE, all=True)
    assert len(rest["removeDrift"]["removed"]) == 1
    assert demo.assignments("sandbox-erin", "PowerUserAccess", "erin") == []
    assert demo.assignments("sandbox-shared", "PowerUserAccess", "alice") == []
    assert (await api.as_(demo.rt, "admin", DRIFT))["drift"] == []


SCAN = """mutation { scanDrift { __typename ... on DriftScanRequested { queued scan { id status } }
  ... on Error { message } } }"""
LAST = "{ lastDriftScan { id status trigger pairsDone pairsTotal progress calls findings new } }"


async def test_scan_drift_starts_a_job_and_its_progress_is_readable(api, demo):
    _out_of_band(demo, "sandbox-erin", "erin")
    assert (await api.as_(demo.rt, "audrey", LAST)) == {"lastDriftScan": None}
    first = (await api.as_(demo.rt, "admin", SCAN))["scanDrift"]
    assert first["__typename"] == "DriftScanRequested" and first["queued"] and first["scan"]["status"] == "QUEUED"
    # A second click while it is queued or running gets the same scan.
    again = (await api.as_(demo.rt, "admin", SCAN))["scanDrift"]
    assert not again["queued"] and again["scan"]["id"] == first["scan"]["id"]
    assert (await api.as_(demo.rt, "alice", SCAN))["scanDrift"]["__typename"] == "NotAllowedError"
    queued = (await api.as_(demo.rt, "audrey", LAST))["lastDriftScan"]
    assert (queued["status"], queued["progress"]) == ("QUEUED", 0.0)
    # Nothing was scanned by the request itself.
    assert (await api.as_(demo.rt, "admin", DRIFT))["drift"] == []

    demo.rt.settings = demo.rt.settings.model_copy(update={"drift_scan_spread": 0.0})
    await drift_scans.run(demo.rt, int(first["scan"]["id"]))
    done = (await api.as_(demo.rt, "audrey", LAST))["lastDriftScan"]
    assert {k: done[k] for k in ("status", "trigger", "pairsDone", "pairsTotal", "progress", "findings", "new")} == {
        "status": "FINISHED", "trigger": "MANUAL", "pairsDone": 1, "pairsTotal": 1, "progress": 1.0,
        "findings": 1, "new": 1}
    assert done["calls"] > 0
    body = (await api.raw(LAST, token=await api.token(demo.rt, "alice"))).json()
    assert not (body["data"] or {}).get("lastDriftScan") and "only admins and auditors" in body["errors"][0]["message"]


async def test_a_group_principal_shows_the_group_name(api, demo):
    demo.sso().create_account_assignment(
        InstanceArn=demo.org.instance_arn, TargetId=demo.account("sandbox-shared"), TargetType="AWS_ACCOUNT",
        PermissionSetArn=demo.ps("ReadOnlyAccess"), PrincipalType="GROUP", PrincipalId=demo.org.groups["engineers"],
    )
    await drift.scan(demo.rt)
    data = await api.as_(demo.rt, "admin", "{ drift { principalType user { userName } group { displayName } } }")
    assert data["drift"] == [{"principalType": "GROUP", "user": None, "group": {"displayName": "engineers"}}]


async def test_revoke_alerts_and_counters_are_visible(api, demo):
    data = await api.as_(demo.rt, "audrey", "{ revokeAlerts { ticketId attempts } reliabilityCounters { name value } }")
    assert data == {"revokeAlerts": [], "reliabilityCounters": []}


async def test_ticket_warns_when_sessions_outlive_it(api, demo):
    from tests.graphql.client import REQUEST

    data = await api.as_(demo.rt, "alice", REQUEST.replace("targets {", "warnings targets {"), input={
        "targets": [{"accountId": demo.account("sandbox-alice"), "permissionSet": "ReadOnlyAccess"}],
        "durationSeconds": 1800})
    [warning] = data["requestTicket"]["warnings"]
    assert "ReadOnlyAccess sessions last up to 8h" in warning
