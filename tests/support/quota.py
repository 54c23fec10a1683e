"""IAM Identity Center's documented limits, as the fault proxy's quota mode enforces them.

- 20 calls per second for the whole instance, shared by every caller: one token bucket
  over every sso-admin operation; an empty bucket answers ThrottlingException.
- At most 15 asynchronous writes outstanding: CreateAccountAssignment and
  DeleteAccountAssignment are refused with ThrottlingException while that many are still
  IN_PROGRESS.
- Writes settle a second or more after they are asked for: each is answered IN_PROGRESS
  at once, and reaches moto only when it settles.

This module holds the state and the arithmetic; `FaultProxy` does the HTTP.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

WRITES = ("CreateAccountAssignment", "DeleteAccountAssignment")


@dataclass(frozen=True)
class QuotaSettings:
    rate: float = 20.0  # calls per second, refilled continuously
    burst: int = 20  # the bucket's size: calls allowed back to back from full
    max_outstanding: int = 15  # creates and deletes not yet settled
    settle: tuple[float, float] = (1.0, 3.0)  # seconds from request to settle, uniform
    seed: int | None = 0  # settle delays are reproducible for one seed and one request order

    def as_dict(self) -> dict:
        return {"rate": self.rate, "burst": self.burst, "max_outstanding": self.max_outstanding,
                "settle": list(self.settle), "seed": self.seed}

    @classmethod
    def from_dict(cls, data: dict) -> QuotaSettings:
        settle = data.get("settle", cls.settle)
        if isinstance(settle, str):
            settle = [float(x) for x in settle.split(",")]
        low, high = (float(settle[0]), float(settle[-1]))
        if low > high or low < 0:
            raise ValueError(f"settle must be low,high with 0 <= low <= high, not {settle}")
        return cls(rate=float(data.get("rate", cls.rate)), burst=int(data.get("burst", cls.burst)),
                   max_outstanding=int(data.get("max_outstanding", cls.max_outstanding)),
                   settle=(low, high), seed=data.get("seed", cls.seed))


@dataclass
class PendingWrite:
    """A create or delete answered IN_PROGRESS, waiting for its settle moment."""

    request_id: str
    operation: str
    params: dict
    body: bytes
    path: str
    headers: dict[str, str]
    requested_at: float  # time.time()
    delay: float  # the drawn settle delay, seconds
    settle_at: float  # time.monotonic() when it settles
    settled_at: float | None = None
    status: str = "IN_PROGRESS"
    failure_reason: str | None = None
    task: asyncio.Task | None = None

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        p = self.params
        return (p.get("InstanceArn", ""), p.get("TargetId", ""), p.get("PermissionSetArn", ""),
                p.get("PrincipalType", ""), p.get("PrincipalId", ""))

    def status_document(self) -> dict:
        """What Describe...Status (and the write itself) answers, in AWS's fields."""
        p = self.params
        doc = {"RequestId": self.request_id, "Status": self.status, "TargetId": p.get("TargetId"),
               "TargetType": p.get("TargetType", "AWS_ACCOUNT"), "PermissionSetArn": p.get("PermissionSetArn"),
               "PrincipalType": p.get("PrincipalType"), "PrincipalId": p.get("PrincipalId"),
               "CreatedDate": self.requested_at}
        if self.failure_reason is not None:
            doc["FailureReason"] = self.failure_reason
        return doc

    def record(self) -> dict:
        p = self.params
        return {"operation": self.operation, "account": p.get("TargetId"),
                "permission_set_arn": p.get("PermissionSetArn"), "principal_type": p.get("PrincipalType"),
                "principal_id": p.get("PrincipalId"), "request_id": self.request_id,
                "requested_at": self.requested_at, "settled_at": self.settled_at, "delay": self.delay,
                "status": self.status, "failure_reason": self.failure_reason}


@dataclass
class QuotaState:
    """Everything quota mode remembers. Touched from the proxy's event loop and, for
    configuration and stats, from the test's thread: every access holds `lock`."""

    settings: QuotaSettings | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: float = 0.0
    refilled: float = 0.0  # time.monotonic() of the last refill
    random: random.Random = field(default_factory=random.Random)
    writes: dict[str, PendingWrite] = field(default_factory=dict)  # by proxy request id, settled too
    unsettled: dict[str, PendingWrite] = field(default_factory=dict)  # kept apart: checked on every request
    last_on_key: dict[tuple, PendingWrite] = field(default_factory=dict)
    calls: Counter = field(default_factory=Counter)
    throttled: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    settles: list[dict] = field(default_factory=list)
    max_outstanding_seen: int = 0

    def configure(self, settings: QuotaSettings | None) -> None:
        with self.lock:
            self.settings = settings
            if settings is not None:
                self.tokens = float(settings.burst)
                self.refilled = time.monotonic()
                self.random = random.Random(settings.seed)

    def outstanding(self) -> int:
        return len(self.unsettled)

    def admit(self, operation: str) -> str | None:
        """Count one sso-admin call; the reason it is throttled ("rate", "outstanding"), or None."""
        with self.lock:
            self.calls[operation] += 1
            s = self.settings
            if s is None:
                return None
            now = time.monotonic()
            self.tokens = min(float(s.burst), self.tokens + (now - self.refilled) * s.rate)
            self.refilled = now
            if self.tokens < 1.0:
                self.throttled[operation]["rate"] += 1
                return "rate"
            self.tokens -= 1.0
            if operation in WRITES and self.outstanding() >= s.max_outstanding:
                self.throttled[operation]["outstanding"] += 1
                return "outstanding"
            return None

    def defer(self, write_args: dict) -> tuple[PendingWrite, PendingWrite | None]:
        """Accept a write; returns it and the earlier unsettled write on the same assignment,
        which must settle first (AWS applies one assignment's changes in order)."""
        with self.lock:
            assert self.settings is not None
            low, high = self.settings.settle
            delay = self.random.uniform(low, high)
            write = PendingWrite(**write_args, delay=delay, settle_at=time.monotonic() + delay)
            before = self.last_on_key.get(write.key)
            if before is not None and before.settled_at is not None:
                before = None
            self.writes[write.request_id] = write
            self.unsettled[write.request_id] = write
            self.last_on_key[write.key] = write
            self.max_outstanding_seen = max(self.max_outstanding_seen, self.outstanding())
            return write, before

    def settled(self, write: PendingWrite, status: str, failure_reason: str | None) -> None:
        with self.lock:
            write.status = status
            write.failure_reason = failure_reason
            write.settled_at = time.time()
            self.unsettled.pop(write.request_id, None)
            self.settles.append(write.record())

    def due(self) -> list[PendingWrite]:
        now = time.monotonic()
        with self.lock:
            return [w for w in self.unsettled.values() if w.settle_at <= now]

    def stats(self) -> dict:
        with self.lock:
            return {
                "quota": self.settings.as_dict() if self.settings else None,
                "calls": dict(self.calls),
                "throttled": {op: dict(reasons) for op, reasons in self.throttled.items()},
                "outstanding": self.outstanding(),
                "max_outstanding_seen": self.max_outstanding_seen,
                "settles": list(self.settles),
            }

    def reset_stats(self) -> None:
        with self.lock:
            self.calls = Counter()
            self.throttled = defaultdict(Counter)
            self.settles = []
            self.max_outstanding_seen = self.outstanding()
