"""What every benchmark shares: percentiles, process RSS, the machine's load, a printed
table and the JSON written to bench/results/<name>.json, and a live JIT (`jit serve` +
`jit worker` as subprocesses against moto, PostgreSQL and Redis) built on the test suite's
tests/support/live.py so the product runs here exactly as it does there.

Benchmarks never fail: they record figures. Targets are printed beside them.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The benchmarks' own services, apart from the test suite's: databases jit_bench_run_<name>
# (a test run's own names must not collide: tests/directory uses <test database>_directory).
os.environ["JIT_TEST_PG_DATABASE"] = os.environ.get("JIT_BENCH_PG_DATABASE", "jit_bench_run")
os.environ["JIT_TEST_REDIS_URL"] = os.environ.get("JIT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")


def percentiles(samples: list[float], scale: float = 1000.0) -> dict[str, float]:
    """p50/p95/p99/max/mean of samples given in seconds, in milliseconds by default."""
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)

    def at(q: float) -> float:
        # Nearest rank: the reported p99 is a sample that was really observed.
        return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))] * scale

    return {
        "n": len(ordered), "p50": round(at(0.50), 3), "p95": round(at(0.95), 3), "p99": round(at(0.99), 3),
        "max": round(ordered[-1] * scale, 3), "mean": round(statistics.fmean(ordered) * scale, 3),
    }


def rss_mb(pid: int, children: bool = True) -> float:
    import psutil

    try:
        proc = psutil.Process(pid)
        total = proc.memory_info().rss
        if children:
            for child in proc.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
        return round(total / 2**20, 1)
    except psutil.Error:
        return 0.0


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "load_average_1m": round(load[0], 2),
        "note": "2 shared cores with other jobs running: compare ratios measured in the same run, not absolute times",
    }


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
        return str(value)

    body = [[cell(v) for v in row] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in body)) if body else len(c) for i, c in enumerate(columns)]
    lines = [f"| {' | '.join(c.ljust(w) for c, w in zip(columns, widths, strict=True))} |",
             f"|{'|'.join('-' * (w + 2) for w in widths)}|"]
    lines += [f"| {' | '.join(v.ljust(w) for v, w in zip(row, widths, strict=True))} |" for row in body]
    text = "\n".join(lines)
    print(f"\n{title}\n{text}", flush=True)
    return text


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
               **machine(), **payload}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"wrote {path.relative_to(ROOT)}", flush=True)
    return path


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.started


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far."""
    import psutil

    try:
        proc = psutil.Process(pid)
        times = proc.cpu_times()
        return times.user + times.system + times.children_user + times.children_system
    except psutil.Error:
        return 0.0


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL server process on this machine (readable as root)."""
    import psutil

    total = 0.0
    for proc in psutil.process_iter(["name"]):
        if (proc.info.get("name") or "").startswith("postgres"):
            try:
                t = proc.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
    return total


@dataclass
class LiveBench:
    """moto + a live JIT on a PostgreSQL database of its own (jit_bench_run_<suffix>)."""

    suffix: str
    extra_env: dict[str, str] = field(default_factory=dict)
    workers: int = 1
    moto: Any = None
    live: Any = None

    def start(self) -> LiveBench:
        import tempfile

        from jit.demo.embedded import free_port, start_moto
        from tests.support.live import LiveJit, database_for

        self.moto = start_moto(free_port())
        database_url = database_for(self.suffix, Path(tempfile.mkdtemp(prefix="jit-bench-")))
        extra = self.extra_env

        class _Live(LiveJit):
            @property
            def env(self) -> dict[str, str]:
                # The product's defaults, not the test suite's fast polling.
                return {**super().env, "JIT_ASSIGNMENT_POLL_INTERVAL": "1.0", **extra}

        self.live = _Live(database_url, os.environ["JIT_TEST_REDIS_URL"], self.moto.url, workers=self.workers).start()
        return self

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
        if self.moto is not None:
            self.moto.stop()

    def rss(self) -> dict[str, float]:
        serve, *workers = self.live.processes
        rss = {"jit serve": rss_mb(serve.pid)}
        for n, worker in enumerate(workers):
            rss["jit worker" + (f" {n + 1}" if len(workers) > 1 else "")] = (
                rss_mb(worker.pid) if worker.poll() is None else "stopped")
        return {**rss, "moto": rss_mb(self.moto.pid), "bench client": rss_mb(os.getpid(), children=False)}

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of each process in the run; subtract two readings for a phase."""
        serve, *workers = self.live.processes
        return {"jit serve": cpu_seconds(serve.pid), "jit workers": sum(cpu_seconds(w.pid) for w in workers),
                "moto": cpu_seconds(self.moto.pid), "postgres (all)": postgres_cpu_seconds(),
                "bench client": cpu_seconds(os.getpid())}

    def __enter__(self) -> LiveBench:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
