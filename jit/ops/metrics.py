"""Prometheus metrics.

Two kinds: events counted where they happen, in whichever process they happen (grant and
revoke latency in the worker, AWS errors in both), and gauges read from the database and
Redis when /metrics is scraped (jit.ops.collectors), which any one API replica can answer
for the whole deployment.

Nothing here carries a ticket id, a user or an account: labels are statuses, AWS
services, operations and error codes, so the endpoint reveals volumes, not people.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import Metric

# One registry per process; the default registry's process and platform collectors are
# added to it so RSS and open file descriptors come along.
REGISTRY = CollectorRegistry(auto_describe=True)

_LATENCY_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800)

GRANT_LATENCY = Histogram(
    "jit_grant_latency_seconds",
    "From a ticket's start time (or its approval, if later) until its assignments all exist in AWS.",
    buckets=_LATENCY_BUCKETS, registry=REGISTRY,
)
REVOKE_LATENCY = Histogram(
    "jit_revoke_latency_seconds",
    "From a ticket's end (its end time, or the moment it was revoked) until its assignments are gone.",
    ["reason"], buckets=_LATENCY_BUCKETS, registry=REGISTRY,
)
AWS_ERRORS = Counter(
    "jit_aws_api_errors",
    "Error responses from AWS APIs, each attempt counted (botocore's retries included).",
    ["service", "operation", "code"], registry=REGISTRY,
)
COLLECTOR_ERRORS = Counter(
    "jit_metrics_collector_errors",
    "Scrape-time collectors that failed (their gauges are missing from that scrape).",
    ["collector"], registry=REGISTRY,
)
JOBS = Counter(
    "jit_jobs",
    "Jobs this worker finished, by job name and outcome (complete, retry, error, cancelled).",
    ["job", "outcome"], registry=REGISTRY,
)
LIVE_EVENT_LAG = Histogram(
    "jit_live_event_delivery_seconds",
    "From a ticket change's commit until this API process handed its event to a subscriber's socket.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2, 5, 10, 30), registry=REGISTRY,
)

JOB_START_DELAY = Histogram(
    "jit_job_start_delay_seconds",
    "From a job's due time to when this worker started it: the queue's own delay.",
    ["job"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300), registry=REGISTRY,
)
AWS_BUDGET_WAIT = Histogram(
    "jit_aws_budget_wait_seconds",
    "How long an sso-admin call (kind=call) or a create/delete (kind=write) waited for the AWS budget, by priority.",
    ["kind", "priority"], buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30), registry=REGISTRY,
)
AWS_BUDGET_DEGRADED = Gauge(
    "jit_aws_budget_degraded",
    "1 while this process cannot reach Redis and keeps to its own share of the AWS budget.",
    registry=REGISTRY,
)
REVOKE_EARLY = Histogram(
    "jit_revoke_started_early_seconds",
    "How long before a ticket's end time its revoke started (planned so the delete settles by then).",
    buckets=(0, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300), registry=REGISTRY,
)
GC_PAUSE = Histogram(
    "jit_gc_pause_seconds",
    "Pauses of this process's cyclic garbage collector (the event loop stops for each), by generation.",
    ["generation"], buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1), registry=REGISTRY,
)


def _add_process_metrics() -> None:
    from prometheus_client import PlatformCollector, ProcessCollector

    ProcessCollector(registry=REGISTRY)
    PlatformCollector(registry=REGISTRY)


_add_process_metrics()


def observe_grant(seconds: float) -> None:
    GRANT_LATENCY.observe(max(seconds, 0.0))


def observe_revoke(reason: str, seconds: float) -> None:
    REVOKE_LATENCY.labels(reason=reason).observe(max(seconds, 0.0))


def observe_live_event(seconds: float) -> None:
    LIVE_EVENT_LAG.observe(max(seconds, 0.0))


def observe_gc_pause(generation: int, seconds: float) -> None:
    GC_PAUSE.labels(generation=str(generation)).observe(max(seconds, 0.0))


def count_aws_error(service: str, operation: str, code: str) -> None:
    AWS_ERRORS.labels(service=service, operation=operation, code=code or "Unknown").inc()


class _Fixed:
    """A collector that hands out metric families computed beforehand."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self._families


def exposition(extra: Iterable[Metric] = ()) -> bytes:
    """This process's metrics plus `extra` (the scrape-time gauges), in the text format."""
    out = generate_latest(REGISTRY)
    families = list(extra)
    if families:
        scratch = CollectorRegistry(auto_describe=False)
        scratch.register(_Fixed(families))
        out += generate_latest(scratch)
    return out


def authorized(expected: str | None, header: str | None) -> bool:
    """With JIT_METRICS_TOKEN set, a scrape must send it as a bearer token."""
    if not expected:
        return True
    scheme, _, value = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), expected.encode())


__all__ = ["CONTENT_TYPE_LATEST", "REGISTRY", "authorized", "count_aws_error", "exposition",
           "observe_grant", "observe_revoke"]
