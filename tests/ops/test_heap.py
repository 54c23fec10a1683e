"""jit/ops/heap.py: the API process's garbage collector settings, and their pauses in /metrics."""

from __future__ import annotations

import argparse
import gc

import pytest

from jit import cli
from jit.ops import heap, logs, metrics


def _pauses(generation: int) -> float:
    for line in metrics.exposition([]).decode().splitlines():
        if line.startswith(f'jit_gc_pause_seconds_count{{generation="{generation}"}} '):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.fixture
def restored_gc():
    thresholds = gc.get_threshold()
    callbacks = list(gc.callbacks)
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    gc.callbacks[:] = callbacks


def test_settle_freezes_the_heap_and_collects_young_objects_in_larger_batches(restored_gc):
    gc.unfreeze()
    _, middle, old = gc.get_threshold()
    heap.settle()
    assert gc.get_freeze_count() > 1000
    assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, middle, old)


def test_every_collection_pause_is_measured(restored_gc):
    heap.settle()
    heap.settle()
    before = _pauses(2)
    gc.collect()
    assert _pauses(2) == before + 1


def test_serve_settles_the_heap_before_accepting(restored_gc, monkeypatch):
    import uvicorn

    seen = {}

    def run(app, **kwargs):
        seen["threshold"] = gc.get_threshold()[0]
        seen["frozen"] = gc.get_freeze_count()

    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(logs, "configure_logging", lambda _format: None)
    cli.cmd_serve(argparse.Namespace(host=None, port=None))
    assert seen["threshold"] == heap.YOUNG_THRESHOLD
    assert seen["frozen"] > 1000
