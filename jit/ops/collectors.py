"""Gauges computed when /metrics is scraped, from the database and the job queue.

Each collector is an async function of the Runtime returning metric families. They read
shared state, so any API replica reports the whole deployment: scrape one replica (or
de-duplicate by `max`), not the sum of all. Another domain adds its gauges by appending a
function to COLLECTORS.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import cast

from arq.constants import default_queue_name
from prometheus_client.core import GaugeMetricFamily, Metric
from tortoise.functions import Count

from jit.notify.models import DeliveryStatus, Notification, NotificationDelivery, NotificationStatus
from jit.ops.metrics import COLLECTOR_ERRORS
from jit.reconcile.models import DriftFinding, RevokeRetry
from jit.runtime import Runtime
from jit.tickets.models import Ticket, TicketStatus

log = logging.getLogger(__name__)

ScrapeCollector = Callable[[Runtime], Awaitable[Iterable[Metric]]]


async def tickets_by_status(rt: Runtime) -> Iterable[Metric]:

    rows = await Ticket.annotate(n=Count("id")).group_by("status").values("status", "n")
    counts = {TicketStatus(r["status"]).value: r["n"] for r in rows}
    family = GaugeMetricFamily("jit_tickets", "Tickets by status.", labels=["status"])
    for status in TicketStatus:  # every status, zeros included, so a rate never has gaps
        family.add_metric([status.value], counts.get(status.value, 0))
    return [family]


async def drift(rt: Runtime) -> Iterable[Metric]:

    open_findings = await DriftFinding.filter(resolved_at=None).count()
    return [GaugeMetricFamily("jit_reconciler_drift", "Assignments in AWS that no ticket or standing "
                              "assignment explains, found by the reconciler and not yet resolved.",
                              value=open_findings)]


async def failing_revokes(rt: Runtime) -> Iterable[Metric]:

    family = GaugeMetricFamily("jit_revokes_failing", "Revokes being retried after a failure; alerted: past "
                               "JIT_REVOKE_ALERT_ATTEMPTS.", labels=["alerted"])
    family.add_metric(["false"], await RevokeRetry.filter(alerted_at=None).count())
    family.add_metric(["true"], await RevokeRetry.filter(alerted_at__isnull=False).count())
    return [family]


async def job_queue(rt: Runtime) -> Iterable[Metric]:
    """arq keeps the queue as a sorted set scored by when each job is due (ms)."""
    now_ms = time.time() * 1000
    due = await rt.redis.zcount(default_queue_name, "-inf", now_ms)
    deferred = await rt.redis.zcount(default_queue_name, f"({now_ms}", "+inf")
    oldest = await rt.redis.zrangebyscore(default_queue_name, "-inf", now_ms, start=0, num=1, withscores=True)
    depth = GaugeMetricFamily("jit_job_queue_depth", "Jobs in the queue: due (waiting for a worker) or deferred "
                              "(scheduled for later, such as revokes at a ticket's end).", labels=["state"])
    depth.add_metric(["due"], due)
    depth.add_metric(["deferred"], deferred)
    age = GaugeMetricFamily("jit_job_queue_oldest_due_age_seconds",
                            "How long the oldest due job has waited for a worker (0 when none waits).",
                            value=max((now_ms - oldest[0][1]) / 1000, 0.0) if oldest else 0.0)
    return [depth, age]


async def notification_backlog(rt: Runtime) -> Iterable[Metric]:
    """The outbox: notifications not yet fanned out to channels, and deliveries not yet made."""

    backlog = GaugeMetricFamily("jit_notification_backlog", "Notifications waiting: written but not yet fanned "
                                "out to channels (stage=outbox), or a channel delivery not yet made "
                                "(stage=delivery, retried with backoff while a channel is down).", labels=["stage"])
    backlog.add_metric(["outbox"], await Notification.filter(status=NotificationStatus.PENDING).count())
    pending = NotificationDelivery.filter(status=DeliveryStatus.PENDING)
    backlog.add_metric(["delivery"], await pending.count())
    # Tortoise types values_list as tuples; flat after first() it is the one value, or None.
    oldest = cast(datetime | None, await pending.order_by("created_at").first().values_list("created_at", flat=True))
    age = GaugeMetricFamily("jit_notification_oldest_pending_age_seconds",
                            "How long the oldest undelivered channel delivery has waited (0 when none).",
                            value=max((rt.clock.now() - oldest).total_seconds(), 0.0) if oldest else 0.0)
    dead = GaugeMetricFamily("jit_notification_deliveries_dead", "Deliveries a channel refused for good "
                             "(no address, a 4xx): someone must look.",
                             value=await NotificationDelivery.filter(status=DeliveryStatus.DEAD).count())
    return [backlog, age, dead]


COLLECTORS: list[ScrapeCollector] = [tickets_by_status, drift, failing_revokes, job_queue, notification_backlog]


async def collect(rt: Runtime, collectors: Iterable[ScrapeCollector] = COLLECTORS) -> list[Metric]:
    families: list[Metric] = []
    for collector in collectors:
        try:
            families.extend(await collector(rt))
        except Exception:  # noqa: BLE001 - one broken source must not blank the whole scrape
            COLLECTOR_ERRORS.labels(collector=collector.__name__).inc()
            log.exception("metrics collector %s failed", collector.__name__)
    return families
