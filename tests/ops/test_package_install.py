"""The Dockerfile's build stage without Docker: the files it copies, installed (not
editable) into a fresh venv with the locked versions, must migrate a database and run from
outside the source tree. Catches a migration, rules file or Casbin model left out of the
package, which an editable install in the source tree never would. Slow (a pip install):
`make test-all`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _build_stage_sources() -> list[str]:
    dockerfile = (ROOT / "Dockerfile").read_text()
    build = dockerfile.split(" AS build", 1)[1].split("\nFROM ", 1)[0]
    sources: list[str] = []
    for line in re.findall(r"^COPY\s+(?!--from)(.+)$", build, re.MULTILINE):
        sources += line.split()[:-1]
    return sources


def test_the_installed_package_migrates_and_runs_outside_the_source_tree(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in _build_stage_sources():
        path = ROOT / name
        (shutil.copytree if path.is_dir() else shutil.copy2)(path, src / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run(
        [str(venv / "bin/pip"), "install", "-q", "--disable-pip-version-check", "-c", "requirements.lock", "."],
        cwd=src, capture_output=True, text=True, timeout=900,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    shutil.rmtree(src)  # nothing may still come from the sources
    run = tmp_path / "run"
    run.mkdir()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "JIT_DATABASE_URL": f"sqlite://{tmp_path / 'jit.sqlite3'}"}
    migrated = subprocess.run([str(venv / "bin/jit"), "migrate"], cwd=run, env=env, capture_output=True, text=True,
                              timeout=300)
    assert migrated.returncode == 0 and "migrated" in migrated.stdout, migrated.stderr[-2000:]
    # The Casbin model and the demo rules are package data.
    check = subprocess.run(
        [str(venv / "bin/python"), "-c",
         "from importlib import resources; import jit.authz, jit.demo;"
         "assert any(p.name.endswith('.conf') for p in resources.files('jit.authz').iterdir());"
         "assert resources.files('jit.demo').joinpath('rules.yaml').is_file()"],
        cwd=run, env=env, capture_output=True, text=True, timeout=120,
    )
    assert check.returncode == 0, check.stderr[-2000:]
    schema = subprocess.run([str(venv / "bin/jit"), "export-schema"], cwd=run, env=env, capture_output=True,
                            text=True, timeout=300)
    assert schema.returncode == 0, schema.stderr[-2000:]
    assert schema.stdout.strip() == (ROOT / "schema.graphql").read_text().strip()
