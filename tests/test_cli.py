"""`jit`'s server commands as an operator runs them: every failure is one line on stderr
with the exit code `jit --help` lists, never a Python traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from jit.client.errors import ExitCode


def _jit(*args: str, database: str | None = None, cwd=None, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("JIT_")}
    if database:
        base["JIT_DATABASE_URL"] = database
    return subprocess.run([sys.executable, "-m", "jit.cli", *args], env={**base, **env}, capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def _one_line(done: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> str:
    url = f"sqlite://{tmp_path_factory.mktemp('cli') / 'jit.sqlite3'}"
    assert _jit("migrate", database=url).returncode == 0
    return url


def test_exit_codes_are_listed_in_the_help():
    done = _jit("--help")
    for code in (ExitCode.ERROR, ExitCode.USAGE, ExitCode.INVALID, ExitCode.NOT_FOUND):
        assert f"\n  {int(code):>2}  " in done.stdout
    assert "--traceback" in done.stdout


def test_a_rules_file_that_does_not_exist_is_one_line(tmp_path):
    done = _jit("rules", "apply", "/nonexistent.yaml", database=f"sqlite://{tmp_path / 'x.sqlite3'}")
    _one_line(done, ExitCode.USAGE, "/nonexistent.yaml", "No such file")
    assert done.stdout == ""


def test_an_invalid_rules_file_names_the_field(migrated, tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  - name: x\n    max_duration_seconds: 60\n    colour: red\n")
    _one_line(_jit("rules", "apply", str(bad), database=migrated), ExitCode.INVALID, "colour")


def test_a_domain_not_found_is_its_own_code(migrated):
    _one_line(_jit("token", "revoke", "987654", database=migrated), ExitCode.NOT_FOUND)


def test_an_unmigrated_database_says_what_to_run(tmp_path):
    url = f"sqlite://{tmp_path / 'empty.sqlite3'}"
    _one_line(_jit("token", "list", database=url), ExitCode.ERROR, "jit migrate")
    # The traceback is there for whoever asks for it.
    done = _jit("--traceback", "token", "list", database=url)
    assert done.returncode == 1 and "Traceback" in done.stderr


def test_a_bad_setting_is_one_line_naming_each_variable():
    done = _jit("migrate", JIT_AWS_RATE_LIMIT="0", JIT_AWS_MAX_OUTSTANDING="99")
    _one_line(done, 1, "JIT_AWS_RATE_LIMIT", "JIT_AWS_MAX_OUTSTANDING")


def test_a_misspelled_variable_is_warned_with_the_nearest_setting(tmp_path):
    done = _jit("migrate", database=f"sqlite://{tmp_path / 'w.sqlite3'}", JIT_DRIFT_AUTOREMOVE="true",
                JIT_SERVER="http://x", JIT_TEST_PG_DATABASE="t")
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: JIT_DRIFT_AUTOREMOVE is not a JIT setting and is ignored; "
                        "did you mean JIT_DRIFT_AUTO_REMOVE?"]


def test_unknown_variables_name_the_nearest_known_one_only_when_close():
    from jit.config import unknown_variables

    env = {"JIT_MAX_TARGET": "5", "JIT_WHATEVER_ELSE_ENTIRELY": "1", "JIT_REDIS_URL": "x", "JIT_TOKEN": "t",
           "PATH": "/bin"}
    assert unknown_variables(env) == [("JIT_MAX_TARGET", "JIT_MAX_TARGETS"), ("JIT_WHATEVER_ELSE_ENTIRELY", None)]


async def test_sync_prints_a_table_and_json(demo, database_url, redis_url, moto_url):
    import asyncio
    import json

    import boto3

    env = {"JIT_MODE": "test", "JIT_REDIS_URL": redis_url, "JIT_AWS_ENDPOINT_URL": moto_url,
           "JIT_AWS_REGION": "us-east-1"}
    done = await asyncio.to_thread(_jit, "sync", database=database_url, **env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["SEEN", "ADDED", "CHANGED", "REMOVED"]
    rows = {line.rsplit(None, 4)[0]: line.split()[-4:] for line in lines[1:7]}
    assert list(rows) == ["organizational units", "accounts", "permission sets", "users", "groups", "memberships"]
    assert all(counts[1:] == ["0", "0", "0"] for counts in rows.values()), done.stdout  # seeded and synced already
    assert lines[7].startswith("synced in ") and "AWS" in lines[7]

    ids = boto3.client("identitystore", endpoint_url=moto_url, region_name="us-east-1")
    ids.create_group(IdentityStoreId=demo.org.identity_store_id, DisplayName="sre", Description="on call")
    done = await asyncio.to_thread(_jit, "sync", "--output", "json", database=database_url, **env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert "tables" in report, report
    assert report["tables"]["groups"]["added"] == 1, report
    assert report["tables"]["accounts"] == {"seen": report["tables"]["accounts"]["seen"], "added": 0, "changed": 0,
                                            "removed": 0}
    assert report["elapsed_seconds"] > 0 and report["ended_tickets"] == {}
