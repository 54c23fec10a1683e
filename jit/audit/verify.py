"""`jit audit verify`: walks the whole chain from genesis, or from the pruning checkpoint."""

from __future__ import annotations

from dataclasses import dataclass

from jit.audit.chain import Break, Walker
from jit.audit.models import AuditEvent
from jit.audit.service import chain_head

BATCH = 1000


@dataclass
class Verification:
    checked: int
    first_seq: int  # the checkpoint verification started from (0: genesis)
    head_seq: int
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


async def verify_chain(*, batch: int = BATCH) -> Verification:
    head = await chain_head(lock=False)
    walker = Walker(head.checkpoint_seq, head.checkpoint_hash)
    # Every event has a seq since migration 0005; one without was put in around record().
    unchained = await AuditEvent.filter(seq__isnull=True).order_by("id").first()
    if unchained is not None:
        return Verification(0, head.checkpoint_seq, head.head_seq,
                            Break(unchained.id, None, "it has no seq: it was inserted outside the chain"))
    # Pruning deleted everything up to the checkpoint; an event there now was put back.
    stale = await AuditEvent.filter(seq__lte=head.checkpoint_seq).order_by("seq").first()
    if stale is not None:
        return Verification(0, head.checkpoint_seq, head.head_seq,
                            Break(stale.id, stale.seq, "an event at or before the pruning checkpoint is still present"))
    # Paged by seq, not by offset: rows added while verifying do not shift the pages.
    cursor = head.checkpoint_seq
    while True:
        rows = await AuditEvent.filter(seq__gt=cursor).order_by("seq", "id").limit(batch)
        for row in rows:
            broken = walker.step(row)
            if broken is not None:
                return Verification(walker.count, head.checkpoint_seq, head.head_seq, broken)
        if len(rows) < batch:
            break
        cursor = rows[-1].seq
    if walker.seq < head.head_seq:
        reason = f"the chain head says seq {head.head_seq} but the last event is seq {walker.seq} (events deleted from the end)"
        return Verification(walker.count, head.checkpoint_seq, head.head_seq, Break(None, walker.seq, reason))
    if walker.seq == head.head_seq and walker.hash != head.head_hash:
        return Verification(walker.count, head.checkpoint_seq, head.head_seq,
                            Break(None, walker.seq, "the last event's hash is not the chain head's"))
    return Verification(walker.count, head.checkpoint_seq, head.head_seq, None)
