"""The API process's cyclic garbage collector, set for a heap of many open websockets.

Each open subscription keeps a few hundred tracked objects alive (its uvicorn and
websockets protocol, the graphql-transport-ws handler, generators, futures), so 1,000
sockets make a heap of ~700,000 objects besides the ~150,000 of the code and schema. With
CPython's defaults (a young collection every 700 net allocations, a full one after 100 of
those) a fan-out to those sockets ran ~150 young collections per five events and, every few
events, a full collection of the whole heap: 400-600 ms with the event loop stopped
(docs/performance.md, section 5).

`settle()` runs once, just before the server starts accepting:

- `gc.freeze()`: what exists by then (modules, the schema, the app) lives as long as the
  process; no collection looks at it again.
- a young collection every 50,000 net allocations instead of 700: objects that die young
  (nearly all of a delivery's) are freed by reference counting and never reach the
  collector; cycles are still collected, only in larger batches (a few MB at most).

Every collection's pause is in jit_gc_pause_seconds, by generation.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from jit.ops import metrics

YOUNG_THRESHOLD = 50_000

_started: dict[str, float] = {}


def _observe(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started["at"] = time.perf_counter()
    elif "at" in _started:
        metrics.observe_gc_pause(info["generation"], time.perf_counter() - _started.pop("at"))


def settle(young_threshold: int = YOUNG_THRESHOLD) -> None:
    """Freeze what exists now and collect young objects in larger batches (see above)."""
    if _observe not in gc.callbacks:
        gc.callbacks.append(_observe)
    gc.collect()  # nothing that is already garbage gets frozen
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)
