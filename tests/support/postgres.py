"""A private PostgreSQL server for machines where none is running but one is installed.

The suite prefers the configured server. When that does not answer, it starts the
installed binaries (PATH, then /usr/lib/postgresql/*/bin) on a free loopback port, with a
throwaway data directory and trust auth, and stops it at the end of the session.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from jit.demo.embedded import EmbeddedUnavailable, free_port
from jit.demo.stack import on_exit

_START_TIMEOUT = 60


def _bin_dir() -> Path | None:
    # Debian keeps the real binaries per version; what PATH holds may be wrappers.
    candidates = [Path(p).parent for p in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)]
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).parent)
    for directory in candidates:
        if all((directory / tool).exists() for tool in ("initdb", "pg_ctl", "pg_isready")):
            return directory
    return None


@dataclass
class PrivatePostgres:
    url: str
    data_dir: Path
    bin_dir: Path
    run_as: str | None

    def _cmd(self, *args: str) -> list[str]:
        # initdb and postgres refuse to run as root; Debian's package leaves a postgres user.
        return ["runuser", "-u", self.run_as, "--", *args] if self.run_as else list(args)

    def stop(self) -> None:
        subprocess.run(
            self._cmd(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"),
            capture_output=True, check=False,
        )
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start_private_postgres() -> PrivatePostgres:
    """Starts an installed PostgreSQL; raises EmbeddedUnavailable saying what is missing."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise EmbeddedUnavailable("no PostgreSQL binaries found "
                                  "(initdb, pg_ctl and pg_isready, on PATH or in /usr/lib/postgresql/*/bin)")
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise EmbeddedUnavailable("running as root and there is no 'postgres' user to run PostgreSQL as") from None
        run_as = "postgres"
    root = Path(tempfile.mkdtemp(prefix="jit-pg-"))
    data_dir, socket_dir = root / "data", root / "sock"
    socket_dir.mkdir()
    if run_as:
        shutil.chown(root, user=run_as)
        shutil.chown(socket_dir, user=run_as)
    port = free_port()
    server = PrivatePostgres(f"postgres://postgres@127.0.0.1:{port}/postgres", data_dir, bin_dir, run_as)
    # pg_ctl's postgres leaves our process tree: a watchdog stops it if we die without cleaning up.
    on_exit(server._cmd(str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "stop"))
    init = subprocess.run(
        server._cmd(str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8"),
        capture_output=True, text=True, check=False,
    )
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise EmbeddedUnavailable(f"initdb failed: {init.stderr.strip()[-500:]}")
    options = f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = subprocess.run(
        server._cmd(str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-o", options, "-l", str(root / "log"), "-w",
                    "-t", str(_START_TIMEOUT), "start"),
        capture_output=True, text=True, check=False,
    )
    if start.returncode != 0:
        log = (root / "log").read_text(errors="replace")[-500:] if (root / "log").exists() else ""
        server.stop()
        raise EmbeddedUnavailable(f"PostgreSQL did not start: {start.stderr.strip()} {log}")
    deadline = time.monotonic() + _START_TIMEOUT
    while subprocess.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                         capture_output=True, check=False).returncode != 0:
        if time.monotonic() > deadline:
            server.stop()
            raise EmbeddedUnavailable("PostgreSQL started but never accepted connections")
        time.sleep(0.2)
    return server
