"""Pruning: events older than the retention go, and a checkpoint keeps the rest verifiable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from jit.audit.chain import Walker
from jit.audit.models import AuditChain, AuditEvent
from jit.audit.service import CHAIN_ROW, chain_head, record
from jit.clock import Clock
from jit.errors import ValidationFailed


@dataclass
class Pruned:
    count: int
    checkpoint_seq: int
    checkpoint_hash: str


async def prune(before: datetime, clock: Clock, actor_id: str | None = None) -> Pruned:
    """Deletes the events before `before` and moves the checkpoint to the last one deleted.

    The events about to go are verified first: pruning must not launder an edit. The
    newest event is never pruned, so the checkpoint always has a successor to check."""
    async with in_transaction():
        head = await chain_head(lock=True)
        last = await AuditEvent.filter(at__lt=before, seq__lt=head.head_seq).order_by("-seq").first()
        if last is None:
            return Pruned(0, head.checkpoint_seq, head.checkpoint_hash)
        walker = Walker(head.checkpoint_seq, head.checkpoint_hash)
        cursor = head.checkpoint_seq
        while cursor < last.seq:
            rows = await AuditEvent.filter(seq__gt=cursor, seq__lte=last.seq).order_by("seq").limit(1000)
            if not rows:
                break
            for row in rows:
                broken = walker.step(row)
                if broken is not None:
                    raise ValidationFailed(f"not pruning: the chain is broken at {broken}", field="before")
            cursor = rows[-1].seq
        if walker.seq != last.seq:
            raise ValidationFailed(f"not pruning: the chain is broken after seq {walker.seq}", field="before")
        count = await AuditEvent.filter(seq__lte=last.seq).delete()
        await AuditChain.filter(id=CHAIN_ROW).update(
            checkpoint_seq=last.seq, checkpoint_hash=last.hash, checkpoint_at=last.at,
            pruned_total=head.pruned_total + count,
        )
        await record(
            clock.now(), actor_id, "audit.pruned", subject_type="audit", subject_id="chain",
            before={"checkpoint_seq": head.checkpoint_seq}, after={"checkpoint_seq": last.seq, "checkpoint_hash": last.hash},
            detail={"deleted": count, "before": before},
        )
    # The walk ended on `last` and checked its hash: the walker holds it, typed.
    return Pruned(count, walker.seq, walker.hash)


async def prune_by_retention(days: int | None, clock: Clock) -> Pruned | None:
    if not days:
        return None
    return await prune(clock.now() - timedelta(days=days), clock)
