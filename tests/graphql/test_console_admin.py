"""Admin helpers for the console: a sync on demand, and the preview of who may request
and who approves a target."""

from __future__ import annotations

from arq.jobs import Job, JobStatus

from jit.directory.models import Account

SYNC = "mutation { syncDirectory { __typename ... on DirectorySyncRequested { jobId queued lastSyncedAt } ... on Error { message } } }"
PREVIEW = """query($a: String!, $p: String!) { approvalPreview(accountId: $a, permissionSet: $p) {
  __typename
  ... on ApprovalPreview { rules { name autoApproved requesters { userName } steps { name required approvers { userName } } } }
  ... on Error { message field } } }"""


async def test_sync_directory_enqueues_one_job_per_minute_for_admins(api, demo):
    rt = demo.rt
    denied = await api.as_(rt, "alice", SYNC)
    assert denied["syncDirectory"]["__typename"] == "NotAllowedError"

    first = (await api.as_(rt, "admin", SYNC))["syncDirectory"]
    assert first["__typename"] == "DirectorySyncRequested" and first["queued"] is True
    assert first["jobId"].startswith("directory.sync:manual:")
    assert await Job(first["jobId"], rt.redis).status() == JobStatus.queued
    again = (await api.as_(rt, "admin", SYNC))["syncDirectory"]
    assert (again["jobId"], again["queued"]) == (first["jobId"], False)
    rt.clock.advance(seconds=60)
    later = (await api.as_(rt, "admin", SYNC))["syncDirectory"]
    assert later["queued"] is True and later["jobId"] != first["jobId"]


async def test_directory_sync_reports_the_last_sync(api, demo):
    status = (await api.as_(demo.rt, "alice", "{ directorySync { lastSyncedAt intervalSeconds } }"))["directorySync"]
    newest = max(a.synced_at for a in await Account.filter(removed_at=None))
    assert status["lastSyncedAt"] is not None
    assert status["lastSyncedAt"].replace("Z", "+00:00")[:19] == newest.isoformat()[:19]
    assert status["intervalSeconds"] == demo.rt.settings.sync_interval


async def test_preview_names_requesters_and_approvers(api, demo):
    rt = demo.rt
    data = (await api.as_(rt, "admin", PREVIEW, a="payments-prod", p="ReadOnlyAccess"))["approvalPreview"]
    assert data["__typename"] == "ApprovalPreview", data
    assert data["rules"], "some rule covers payments-prod / ReadOnlyAccess in the demo"
    requesters = {u["userName"] for r in data["rules"] for u in r["requesters"]}
    assert "alice" in requesters
    approvers = {u["userName"] for r in data["rules"] for s in r["steps"] for u in s["approvers"]}
    assert "bob" in approvers and "alice" not in approvers
    assert all(len(r["steps"]) == 0 for r in data["rules"] if r["autoApproved"])


async def test_preview_is_for_admins_and_names_the_bad_field(api, demo):
    rt = demo.rt
    refused = await api.as_(rt, "alice", PREVIEW, a="payments-prod", p="ReadOnlyAccess")
    assert refused["approvalPreview"]["__typename"] == "NotAllowedError"
    bad_account = (await api.as_(rt, "admin", PREVIEW, a="no-such-account", p="ReadOnlyAccess"))["approvalPreview"]
    assert (bad_account["__typename"], bad_account["field"]) == ("NotFoundError", "accountId")
    bad_ps = (await api.as_(rt, "admin", PREVIEW, a="payments-prod", p="NoSuchSet"))["approvalPreview"]
    assert (bad_ps["__typename"], bad_ps["field"]) == ("NotFoundError", "permissionSet")
