"""Drift scans: what they cost, that tickets changing mid-scan are never drift, and scans as
paced jobs with a progress row."""

from __future__ import annotations

import asyncio

from arq.jobs import Job, JobStatus

from jit.audit.models import AuditEvent
from jit.directory.models import Account, PermissionSet
from jit.reconcile import drift, drift_scans, inventory
from jit.reconcile.models import DriftScanRun, DriftScanStatus
from jit.tickets import stack
from tests.reconcile.conftest import active_ticket
from tests.reconcile.test_drift import out_of_band


class AtEndOfRead:
    """Progress that runs `act` once, when the last provisioned pair has been read from AWS
    and before the scan reads the database: tickets changing in the middle of a scan."""

    def __init__(self, act):
        self.act = act
        self.seen: list[tuple[int, int]] = []

    async def update(self, *, pairs_done: int, pairs_total: int, calls: int) -> None:
        self.seen.append((pairs_done, pairs_total))
        if pairs_total and pairs_done == pairs_total and self.act is not None:
            act, self.act = self.act, None
            await act()


class FakeTime:
    """A Pace's sleep and clock: sleeping moves the clock, and each wait is recorded."""

    def __init__(self, on_sleep=None):
        self.now = 1000.0
        self.slept: list[float] = []
        self.on_sleep = on_sleep

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            await self.on_sleep(len(self.slept))

    def pace(self, seconds: float, expected_calls: int) -> inventory.Pace:
        return inventory.Pace(seconds, expected_calls, sleep=self.sleep, monotonic=self.monotonic)


async def _counts():
    accounts = await Account.filter(removed_at=None).count()
    permission_sets = await PermissionSet.filter(removed_at=None).count()
    return accounts, permission_sets


async def test_a_scan_costs_the_smaller_dimension_plus_the_provisioned_pairs(demo):
    out_of_band(demo, "sandbox-erin", "PowerUserAccess", "erin")
    await active_ticket(demo)
    accounts, permission_sets = await _counts()
    assert permission_sets < accounts
    report = await drift.scan(demo.rt)
    # Two provisioned pairs; one finding, confirmed with one more read of its pair.
    assert report.pairs == 2 and len(report.found) == 1
    assert report.calls == permission_sets + report.pairs + 1
    assert report.calls_by_operation == {"list_accounts_for_provisioned_permission_set": permission_sets,
                                         "list_account_assignments": 3}
    assert report.calls < accounts * permission_sets  # what one call per pair cost


async def test_with_fewer_accounts_than_permission_sets_it_asks_per_account(demo):
    keep = {demo.account("sandbox-erin"), demo.account("sandbox-alice")}
    await Account.exclude(id__in=keep).update(removed_at=demo.rt.clock.now())
    out_of_band(demo, "sandbox-erin", "PowerUserAccess", "erin")
    out_of_band(demo, "sandbox-shared", "PowerUserAccess", "erin")  # an account JIT does not scan now
    report = await drift.scan(demo.rt)
    assert [(f.account_id, f.permission_set_arn) for f in report.found] == [
        (demo.account("sandbox-erin"), demo.ps("PowerUserAccess"))]
    assert report.calls_by_operation == {"list_permission_sets_provisioned_to_account": 2,
                                         "list_account_assignments": 2}


async def test_tickets_ending_or_starting_mid_scan_are_never_drift_and_true_drift_still_is(demo):
    demo.rt.settings = demo.rt.settings.model_copy(update={"drift_auto_remove": True})
    ending = [await active_ticket(demo), await active_ticket(demo, user="erin", account="sandbox-erin")]
    out_of_band(demo, "sandbox-shared", "ReadOnlyAccess", "erin")  # no ticket explains it

    async def tickets_end_and_one_starts():
        demo.rt.clock.advance(seconds=61)
        for ticket in ending:
            assert (await stack.revoke(demo.rt, str(ticket.id))).result == "revoked"
        await active_ticket(demo, user="alice", account="sandbox-shared", ps="PowerUserAccess")

    hook = AtEndOfRead(tickets_end_and_one_starts)
    report = await drift.scan(demo.rt, progress=hook)
    assert hook.act is None  # it ran mid-scan

    [finding] = report.found
    assert (finding.account_id, finding.principal_id) == (demo.account("sandbox-shared"), demo.org.users["erin"])
    assert report.removed == 1
    assert demo.assignments("sandbox-shared", "ReadOnlyAccess", "erin") == []
    detected = await AuditEvent.filter(action="drift.detected").values_list("detail", flat=True)
    removed = await AuditEvent.filter(action="drift.removed").values_list("detail", flat=True)
    assert [(d["account"], d["principal"]) for d in detected] == [(demo.account("sandbox-shared"), demo.org.users["erin"])]
    assert [(d["account"], d["principal"]) for d in removed] == [(demo.account("sandbox-shared"), demo.org.users["erin"])]
    # The ticket that started mid-scan keeps its access.
    assert len(demo.assignments("sandbox-shared", "PowerUserAccess", "alice")) == 1


async def test_an_assignment_a_ticket_deleted_during_the_scan_waits_for_the_next_scan(demo):
    """AWS may still list an assignment just after a ticket's delete settled (here: it is
    back at once). This scan read it before the delete, so it leaves it; the next judges."""
    ticket = await active_ticket(demo)

    async def ends_and_reappears():
        demo.rt.clock.advance(seconds=61)
        assert (await stack.revoke(demo.rt, str(ticket.id))).result == "revoked"
        out_of_band(demo, "sandbox-alice", "ReadOnlyAccess", "alice")

    report = await drift.scan(demo.rt, auto_remove=True, progress=AtEndOfRead(ends_and_reappears))
    assert report.found == [] and report.unconfirmed == 1
    assert await AuditEvent.filter(action__in=["drift.detected", "drift.removed"]).count() == 0
    demo.rt.clock.advance(seconds=300)
    assert [f.principal_id for f in (await drift.scan(demo.rt)).found] == [demo.org.users["alice"]]


async def test_access_made_again_after_a_ticket_removed_it_is_drift_at_once(demo):
    """Only a deletion around the second read explains what AWS still lists; one from
    before it means the assignment was made again (the fault suite's out-of-band scenario
    waited a minute for it)."""
    ticket = await active_ticket(demo)
    demo.rt.clock.advance(seconds=61)
    assert (await stack.revoke(demo.rt, str(ticket.id))).result == "revoked"
    out_of_band(demo, "sandbox-alice", "ReadOnlyAccess", "alice")
    demo.rt.clock.advance(seconds=drift.RECHECK_MARGIN.total_seconds() + 1)
    report = await drift.scan(demo.rt)
    assert [f.principal_id for f in report.found] == [demo.org.users["alice"]] and report.unconfirmed == 0


async def test_remove_of_an_assignment_already_gone_is_not_a_removal(demo):
    out_of_band(demo, "sandbox-erin", "PowerUserAccess", "erin")
    [finding] = (await drift.scan(demo.rt)).found
    demo.sso().delete_account_assignment(
        InstanceArn=demo.org.instance_arn, TargetId=demo.account("sandbox-erin"), TargetType="AWS_ACCOUNT",
        PermissionSetArn=demo.ps("PowerUserAccess"), PrincipalType="USER", PrincipalId=demo.org.users["erin"])
    row = await drift.remove(demo.rt, finding.id, actor_id=None)
    assert row.resolution == "GONE"
    assert await AuditEvent.filter(action="drift.removed").count() == 0


async def test_pace_spreads_calls_over_its_seconds():
    time = FakeTime()
    pace = time.pace(10.0, expected_calls=5)
    for _ in range(5):
        await pace()
    assert time.slept == [2.0, 2.0, 2.0, 2.0]
    # A low estimate, corrected: the time left is shared by the calls now expected.
    time = FakeTime()
    pace = time.pace(10.0, expected_calls=2)
    await pace()
    pace.expect(9)
    for _ in range(9):
        await pace()
    assert time.slept[0] == 5.0 and len(time.slept) == 9 and sum(time.slept) <= 10.0
    # No time to spread over: never waits.
    time = FakeTime()
    pace = time.pace(0.0, expected_calls=3)
    for _ in range(3):
        await pace()
    assert time.slept == []


async def test_a_requested_scan_is_one_job_and_a_second_request_gets_it_back(demo):
    first, queued = await drift_scans.request_scan(demo.rt, trigger=drift_scans.MANUAL, actor_id="x")
    again, queued_again = await drift_scans.request_scan(demo.rt, trigger=drift_scans.MANUAL, actor_id="y")
    assert queued and not queued_again and again.id == first.id and first.status == DriftScanStatus.QUEUED
    assert await Job(drift_scans.scan_job_id(first.id), demo.rt.redis).status() == JobStatus.queued


async def test_the_job_records_progress_and_paces_its_calls(demo):
    out_of_band(demo, "sandbox-erin", "PowerUserAccess", "erin")
    row, _ = await drift_scans.request_scan(demo.rt, trigger=drift_scans.MANUAL, actor_id="x")
    time = FakeTime()
    result = await drift_scans.run(demo.rt, row.id, pace=time.pace(30.0, expected_calls=10))
    row = await DriftScanRun.get(id=row.id)
    assert row.status == DriftScanStatus.FINISHED and row.active is None
    assert (row.pairs_done, row.pairs_total, row.findings, row.new) == (1, 1, 1, 1)
    assert row.calls == result["calls"] == len(time.slept) + 1
    assert 0 < sum(time.slept) <= 30.0
    # Finished: running the job again (arq may) does nothing, and a new request makes a new scan.
    assert await drift_scans.run(demo.rt, row.id) == {"skipped": "not active"}
    newer, queued = await drift_scans.request_scan(demo.rt, trigger=drift_scans.MANUAL)
    assert queued and newer.id != row.id


async def test_only_scheduled_scans_remove_drift(demo):
    demo.rt.settings = demo.rt.settings.model_copy(update={"drift_auto_remove": True, "drift_scan_spread": 0.0})
    out_of_band(demo, "sandbox-erin", "PowerUserAccess", "erin")
    manual, _ = await drift_scans.request_scan(demo.rt, trigger=drift_scans.MANUAL, actor_id="x")
    assert (await drift_scans.run(demo.rt, manual.id))["removed"] == 0
    scheduled = await drift_scans.scan_if_due(demo.rt)
    assert scheduled is not None and scheduled.trigger == drift_scans.SCHEDULED
    assert await drift_scans.scan_if_due(demo.rt) is None  # not due again within the interval
    assert (await drift_scans.run(demo.rt, scheduled.id))["removed"] == 1
    assert demo.assignments("sandbox-erin", "PowerUserAccess", "erin") == []


async def test_a_scan_that_stopped_moving_is_abandoned_for_a_new_one(demo):
    stuck, _ = await drift_scans.request_scan(demo.rt, trigger=drift_scans.SCHEDULED)
    demo.rt.clock.advance(seconds=drift_scans.stale_after(demo.rt).total_seconds() + 1)
    fresh, queued = await drift_scans.request_scan(demo.rt, trigger=drift_scans.MANUAL, actor_id="x")
    assert queued and fresh.id != stuck.id
    stuck = await DriftScanRun.get(id=stuck.id)
    assert stuck.status == DriftScanStatus.FAILED and stuck.error.startswith("abandoned")
    # Its job, if it ever runs, finds it given up.
    assert await drift_scans.run(demo.rt, stuck.id) == {"skipped": "not active"}


async def test_a_running_scan_given_up_stops_at_its_next_progress_write(demo):
    row, _ = await drift_scans.request_scan(demo.rt, trigger=drift_scans.MANUAL, actor_id="x")
    out_of_band(demo, "sandbox-erin", "PowerUserAccess", "erin")

    async def give_up_after_first_call(sleeps: int) -> None:
        if sleeps == 1:
            demo.rt.clock.advance(seconds=drift_scans.stale_after(demo.rt).total_seconds() + 1)
            await drift_scans.request_scan(demo.rt, trigger=drift_scans.MANUAL, actor_id="y")

    time = FakeTime(on_sleep=give_up_after_first_call)
    result = await drift_scans.run(demo.rt, row.id, pace=time.pace(60.0, 100))
    assert result == {"skipped": "abandoned"}
    assert await AuditEvent.filter(action="drift.detected").count() == 0


async def test_the_reconciler_cron_queues_the_scheduled_scan_and_does_not_run_it(demo):
    from jit.jobs import worker
    from tests.reconcile.conftest import job_ctx

    out_of_band(demo, "sandbox-erin", "PowerUserAccess", "erin")
    result = await worker.reconcile(job_ctx(demo.rt))
    row = await DriftScanRun.get(id=result["drift_scan"])
    assert (row.trigger, row.status) == (drift_scans.SCHEDULED, DriftScanStatus.QUEUED)
    assert await Job(drift_scans.scan_job_id(row.id), demo.rt.redis).status() == JobStatus.queued
    assert await AuditEvent.filter(action="drift.detected").count() == 0
    names = {f.name for f in worker.worker_settings(demo.rt.settings)["functions"]}
    assert "drift.scan" in names
    demo.rt.settings = demo.rt.settings.model_copy(update={"drift_scan_spread": 0.0})
    assert (await worker.scan_drift(job_ctx(demo.rt), row.id))["new"] == 1


async def test_a_scan_whose_job_was_lost_from_the_queue_is_replaced_at_the_next_request(demo):
    """A FLUSHALL (or a Redis restarted empty) loses the queued job; the next request starts
    a new scan instead of waiting ten minutes for the row to go stale."""
    lost, _ = await drift_scans.request_scan(demo.rt, trigger=drift_scans.SCHEDULED)
    again, queued = await drift_scans.request_scan(demo.rt, trigger=drift_scans.MANUAL, actor_id="x")
    assert not queued and again.id == lost.id  # its job is there
    await demo.rt.redis.flushdb()
    demo.rt.clock.advance(seconds=drift_scans.JOB_GRACE.total_seconds() + 1)
    fresh, queued = await drift_scans.request_scan(demo.rt, trigger=drift_scans.MANUAL, actor_id="x")
    assert queued and fresh.id != lost.id
    lost = await DriftScanRun.get(id=lost.id)
    assert lost.status == DriftScanStatus.FAILED and "lost" in lost.error
    assert await Job(drift_scans.scan_job_id(fresh.id), demo.rt.redis).status() == JobStatus.queued


async def test_a_scan_whose_worker_stopped_is_replaced_once_its_heartbeat_lapses(demo):
    """arq marks a job in progress for its longest job timeout (an hour and more), so a
    worker killed or stopped mid-scan would block scans until the row went stale; the
    scan's own heartbeat says whether anything still runs it."""
    from arq.constants import in_progress_key_prefix

    row, _ = await drift_scans.request_scan(demo.rt, trigger=drift_scans.SCHEDULED)
    job_id = drift_scans.scan_job_id(row.id)
    # What a worker that died mid-run leaves: the in-progress mark, no heartbeat.
    await demo.rt.redis.psetex(in_progress_key_prefix + job_id, 3_600_000, b"1")
    demo.rt.clock.advance(seconds=drift_scans.JOB_GRACE.total_seconds() + 1)
    assert await Job(job_id, demo.rt.redis).status() == JobStatus.in_progress
    await demo.rt.redis.set(drift_scans.heartbeat_key(row.id), "1", ex=drift_scans.HEARTBEAT_TTL_SECONDS)
    again, queued = await drift_scans.request_scan(demo.rt, trigger=drift_scans.MANUAL, actor_id="x")
    assert not queued and again.id == row.id  # its worker is alive
    await demo.rt.redis.delete(drift_scans.heartbeat_key(row.id))
    fresh, queued = await drift_scans.request_scan(demo.rt, trigger=drift_scans.MANUAL, actor_id="x")
    assert queued and fresh.id != row.id
    stale = await DriftScanRun.get(id=row.id)
    assert stale.status == DriftScanStatus.FAILED and "worker stopped" in stale.error


async def test_a_running_scan_keeps_its_heartbeat_and_drops_it_when_done(demo):
    row, _ = await drift_scans.request_scan(demo.rt, trigger=drift_scans.MANUAL, actor_id="x")
    seen: list[int] = []

    async def look(sleeps: int) -> None:
        await asyncio.sleep(0)  # let the heartbeat task run
        seen.append(await demo.rt.redis.exists(drift_scans.heartbeat_key(row.id)))

    time = FakeTime(on_sleep=look)
    result = await drift_scans.run(demo.rt, row.id, pace=time.pace(60.0, 100))
    assert "open" in result and seen and all(seen)
    assert not await demo.rt.redis.exists(drift_scans.heartbeat_key(row.id))
