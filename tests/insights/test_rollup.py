"""The daily rollups answer what the live queries over the tickets table answer: on a
generated history over many days, with today's partial day, after the history changes
under closed days, and when rollups are missing (the cron fills them)."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import pytest

from jit.approvals.models import StepStatus, TicketStep
from jit.insights import live, queries
from jit.insights.models import (
    InsightsApprovalBucket,
    InsightsDay,
    InsightsRollup,
    InsightsTargetDay,
    InsightsTargetPage,
)
from jit.insights.rollup import DAY, bucket, midnight, postgres, roll_up, version, write_days, write_hours
from jit.tickets.models import Target, Ticket, TicketStatus

ACCOUNTS = ["111111111111", "222222222222", "333333333333", "444444444444"]
SETS = ["arn:aws:sso:::permissionSet/ssoins-1/ps-a", "arn:aws:sso:::permissionSet/ssoins-1/ps-b"]
RULES = ["alpha", "beta", "gamma"]
STATUSES = [TicketStatus.ENDED] * 5 + [TicketStatus.ACTIVE, TicketStatus.PENDING_APPROVAL, TicketStatus.REJECTED,
                                        TicketStatus.CANCELLED, TicketStatus.FAILED, TicketStatus.SCHEDULED]


async def _history(demo, count: int = 160, days: float = 14, seed: int = 19) -> list[Ticket]:
    """Tickets requested over the last `days` days, written straight to the tables (the
    rollups read nothing else): some span midnights, some end late, some wait for days."""
    rng = random.Random(seed)
    now = demo.rt.clock.now()
    users = [await demo.user(name) for name in ("alice", "erin", "bob")]
    out = []
    for _ in range(count):
        created = now - timedelta(seconds=rng.uniform(0, days * 86400))
        status = rng.choice(STATUSES)
        start = created + timedelta(seconds=rng.uniform(0, 7200))
        end = start + timedelta(seconds=rng.uniform(1800, 30 * 3600))
        who = rng.choice(users)
        ticket = await Ticket.create(
            id=uuid.uuid4(), requester=who, principal=who, status=status, start_at=start, end_at=end,
            created_at=created, updated_at=created, break_glass=rng.random() < 0.15,
            break_glass_reviewed_at=created if rng.random() < 0.3 else None,
            revoke_started_early=round(rng.uniform(-120, 60), 3) if status == TicketStatus.ENDED else None)
        position = 0
        for account in rng.sample(ACCOUNTS, rng.randint(1, 2)):
            rule = rng.choice(RULES)
            await Target.create(ticket=ticket, account_id=account, permission_set_arn=rng.choice(SETS),
                                rule_id=uuid.uuid4(), rule_name=rule)
            for step in range(rng.randint(0, 2)):
                done = created + timedelta(seconds=rng.choice([0.4, rng.uniform(1, 3 * 86400)]))
                state = rng.choice([StepStatus.APPROVED] * 4 + [StepStatus.PENDING, StepStatus.REJECTED])
                if done > now:
                    state = StepStatus.PENDING
                await TicketStep.create(ticket=ticket, position=position, rule_id=uuid.uuid4(), rule_name=rule,
                                        step_index=step, name=f"step {step}", required=1, status=state,
                                        completed_at=None if state == StepStatus.PENDING else done)
                position += 1
        out.append(ticket)
    return out


def _assert_same(got: live.Insights, want: live.Insights) -> None:
    assert [(d.day, d.count) for d in got.active_grants] == [(d.day, d.count) for d in want.active_grants]
    assert [(r.rule_name, r.tickets) for r in got.approval_times] == [
        (r.rule_name, r.tickets) for r in want.approval_times]
    for g, w in zip(got.approval_times, want.approval_times, strict=True):
        assert g.p50_seconds == pytest.approx(w.p50_seconds, abs=1e-5)
        assert g.p95_seconds == pytest.approx(w.p95_seconds, abs=1e-5)
    assert got.top_accounts == want.top_accounts
    assert got.top_permission_sets == want.top_permission_sets
    assert got.break_glass == want.break_glass
    g, w = got.revoke_lateness, want.revoke_lateness
    assert (g.revokes, g.late) == (w.revokes, w.late)
    assert g.worst_late_seconds == pytest.approx(w.worst_late_seconds, abs=1e-6)
    if w.average_early_seconds is None:
        assert g.average_early_seconds is None
    else:
        assert g.average_early_seconds == pytest.approx(w.average_early_seconds, abs=1e-6)


async def _check(rt, ranges=(1, 3, 7, 30, 90)) -> None:
    for days in ranges:
        s = queries.scope(rt.clock.now(), days, None)
        _assert_same(await queries.insights(s), await live.insights(s))


async def _dump() -> list:
    days = await InsightsDay.all().order_by("day", "span").values_list(
        "day", "span", "active_grants", "break_glass_used", "revokes", "revokes_late", "revoke_min_early")
    buckets = await InsightsApprovalBucket.all().order_by("day", "span", "rule_name", "bucket").values_list(
        "day", "span", "rule_name", "bucket", "count", "seconds")
    targets = await InsightsTargetDay.all().order_by("day", "span", "kind", "target_id").values_list(
        "day", "span", "kind", "target_id", "count")
    return [days, buckets, targets]


async def test_rollups_equal_the_live_queries(demo):
    rt = demo.rt
    await _history(demo)
    # No rollup yet: closed days are computed live and the answer is already the same.
    assert await InsightsDay.all().count() == 0
    await _check(rt)

    first = await roll_up(rt.clock)
    assert first["missing"] == 90
    # Every closed hour too, today's among them: they serve the partial days at a range's ends.
    assert first["hours_missing"] == 90 * 24 + rt.clock.now().hour
    today = midnight(rt.clock.now())
    assert await InsightsDay.filter(day__gte=today, span=24).count() == 0  # today is never a day row
    assert await InsightsApprovalBucket.all().count() > 0 and await InsightsTargetDay.all().count() > 0
    # PostgreSQL reads the most requested targets from the running totals of each page.
    assert (await InsightsTargetPage.all().count() > 0) == postgres()
    await _check(rt)

    # Twice in a row: nothing missing, nothing changed, the same rows.
    rows = await _dump()
    again = await roll_up(rt.clock)
    assert (again["missing"], again["changed"], again["hours_missing"]) == (0, 0, 0)
    assert await _dump() == rows


async def test_changes_under_closed_days_are_rolled_up_again(demo):
    rt = demo.rt
    tickets = await _history(demo)
    await roll_up(rt.clock)
    now = rt.clock.now()
    rt.clock.advance(minutes=30)
    later = rt.clock.now()

    # A ticket requested four days ago is approved now, after its day closed...
    waiting = await TicketStep.filter(status=StepStatus.PENDING, ticket__created_at__lt=midnight(now) - 3 * DAY,
                                      ticket__created_at__gte=midnight(now) - 5 * DAY).first()
    assert waiting is not None
    await TicketStep.filter(ticket_id=waiting.ticket_id).update(status=StepStatus.APPROVED, completed_at=later)
    # ...another is made break-glass and granted late, and a revoke records its lateness late.
    old = next(t for t in tickets if t.status == TicketStatus.SCHEDULED and not t.break_glass
               and t.created_at < midnight(now) - DAY)
    await Ticket.filter(id=old.id).update(break_glass=True, status=TicketStatus.ACTIVE, updated_at=later)
    ended = next(t for t in tickets if t.status == TicketStatus.ENDED
                 and midnight(now) - 5 * DAY <= t.end_at < midnight(now) - DAY)
    await Ticket.filter(id=ended.id).update(revoke_started_early=-86400.0, updated_at=later)

    # The rollups of those days are stale until the cron runs: it recomputes just them.
    assert (await queries.insights(queries.scope(later, 7, None))).revoke_lateness.worst_late_seconds < 86400
    result = await roll_up(rt.clock)
    # Half an hour on from 23:30 UTC or later, a new day has closed meanwhile (and is missing).
    assert result["missing"] == (midnight(later) - midnight(now)).days and 1 <= result["changed"] <= 14
    out = await queries.insights(queries.scope(later, 7, None))
    assert out.revoke_lateness.worst_late_seconds == 86400
    await _check(rt)


async def test_backfill_and_today_becoming_a_closed_day(demo):
    rt = demo.rt
    await _history(demo, days=20)
    await roll_up(rt.clock)
    today = midnight(rt.clock.now())
    # Rollups lost for some past days (a worker down, a restore): the answer stays right...
    gone = [today - 2 * DAY, today - 5 * DAY, today - 6 * DAY]
    for model in (InsightsDay, InsightsApprovalBucket, InsightsTargetDay):
        await model.filter(day__in=gone).delete()
    await _check(rt)
    # ...and the cron fills them.
    assert (await roll_up(rt.clock))["missing"] == 3
    assert await InsightsDay.filter(day__in=gone, span=24).count() == 3
    await _check(rt)

    # Past midnight, yesterday's partial day is closed and written by the next run.
    rt.clock.advance(seconds=(today + DAY - rt.clock.now()).total_seconds() + 90)
    # Requested in the last minute and a half, after midnight: in the open hour, read live.
    await _history(demo, count=20, days=0.001, seed=7)
    await _check(rt)
    assert (await roll_up(rt.clock))["missing"] == 1
    assert await InsightsDay.filter(day=today, span=24).count() == 1
    await _check(rt)


async def test_a_crashed_run_is_finished_by_the_next(demo):
    rt = demo.rt
    await _history(demo)
    await roll_up(rt.clock)
    rows = await _dump()
    watermark = (await InsightsRollup.get(id=1)).watermark
    # A run that died half way: some days rewritten, the watermark not moved.
    today = midnight(rt.clock.now())
    for model in (InsightsDay, InsightsApprovalBucket, InsightsTargetDay):
        await model.filter(day__gte=today - 4 * DAY).delete()
    await InsightsRollup.filter(id=1).update(watermark=watermark)
    assert (await roll_up(rt.clock))["missing"] == 4
    assert await _dump() == rows


async def test_the_closed_part_is_kept_per_rollup_version(demo):
    """What a range's rollup rows say is read once per version: every write of the rollups
    moves the version, so an answer kept from before a write is never given after it."""
    rt = demo.rt
    await _history(demo)
    assert await version() is None  # no rollup yet: nothing is kept
    await roll_up(rt.clock)
    v = await version()
    assert (v is not None) == postgres()
    await _check(rt, ranges=(7,))
    r = queries._Range(queries.scope(rt.clock.now(), 7, None))
    kept = await queries._closed(r)
    assert (await queries._closed(r) is kept) == postgres()
    # A run with nothing to write still moves it (the watermark), as does every write of days or hours.
    await roll_up(rt.clock)
    assert await version() != v or not postgres()
    assert await queries._closed(r) is not kept
    for write in (write_days, write_hours):
        before = await version()
        await write([midnight(rt.clock.now()) - 3 * DAY], rt.clock.now())
        assert await version() != before or not postgres()
    # A closed day changed under the rollups: the kept answer is the rows' until the cron
    # writes them, then the new one, equal to the live queries.
    ended = await Ticket.filter(status=TicketStatus.ENDED, end_at__lt=midnight(rt.clock.now()) - 2 * DAY,
                                end_at__gte=midnight(rt.clock.now()) - 6 * DAY).first()
    assert ended is not None
    s = queries.scope(rt.clock.now(), 7, None)
    await Ticket.filter(id=ended.id).update(revoke_started_early=-7 * 3600.0, updated_at=rt.clock.now())
    assert (await queries.insights(s)).revoke_lateness.worst_late_seconds < 7 * 3600
    await roll_up(rt.clock)
    assert (await queries.insights(s)).revoke_lateness.worst_late_seconds == 7 * 3600
    _assert_same(await queries.insights(s), await live.insights(s))


def test_buckets_are_ordered_like_their_values():
    values = [0, 0.4, 1, 1.04, 1.1, 2, 59.9, 60, 600, 3600, 86400, 7 * 86400]
    assert [bucket(v) for v in values] == sorted(bucket(v) for v in values)
    assert bucket(0.99) == 0 and bucket(1) == 1 and bucket(2) == 9


async def test_a_requester_sees_their_own_live(demo):
    await _history(demo, count=60)
    await roll_up(demo.rt.clock)
    alice = await demo.user("alice")
    s = queries.scope(demo.rt.clock.now(), 30, alice.id)
    mine = await queries.insights(s)
    _assert_same(mine, await live.insights(s))
    assert mine.break_glass.used <= (await queries.insights(queries.scope(s.until, 30, None))).break_glass.used
