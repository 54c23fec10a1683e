"""`make bench`: every benchmark in turn, each printing its table and writing
bench/results/<name>.json. Benchmarks record figures; they never fail on a target.

    make bench                          # all, full scale (about 30 minutes on 2 cores)
    make bench BENCH=grant              # one (authz, grant, revoke, quota, directory, fanout, throughput, sync, probes)
    make bench BENCH="authz grant" ARGS=--quick   # smaller scale, for development

They run one after another: the live ones share the Redis database JIT_BENCH_REDIS_URL
(redis://127.0.0.1:6379/7 by default) and each flushes it when it starts.
"""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ALL = ["authz", "grant", "revoke", "quota", "directory", "fanout", "throughput", "sync", "probes"]

names = os.environ.get("BENCH", "").split() or ALL
unknown = [n for n in names if n not in ALL]
if unknown:
    sys.exit(f"unknown benchmark {unknown}; choose from {ALL}")
args = sys.argv[1:]
failed = []
for name in names:
    print(f"\n== {name} ==", flush=True)
    extra = [a for a in args if a != "--quick"] if name == "sync" else args
    if name == "sync" and "--quick" in args:
        # A tenth of the directory: 500 accounts, 50 permission sets, 2,000 users.
        extra = ["--accounts", "500", "--permission-sets", "50", "--users", "2000", "--groups", "20"]
    if subprocess.run([sys.executable, str(HERE / f"bench_{name}.py"), *extra]).returncode != 0:
        failed.append(name)
if failed:
    # A benchmark that could not run is reported, but `make bench` is not a test.
    print(f"\nthese benchmarks did not complete: {failed}", flush=True)
