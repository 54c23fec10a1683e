"""`make bench`: every benchmark, each printing a table and writing JSON to bench/results/."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in ("bench_sync.py", "bench_authz.py"):
    print(f"\n== {script} ==", flush=True)
    subprocess.run([sys.executable, str(HERE / script)], check=True)
