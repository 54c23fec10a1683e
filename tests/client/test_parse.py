"""What people type: durations and times."""

from datetime import UTC, datetime, timedelta

import pytest

from jit.client.errors import ClientError, ExitCode
from jit.client.parse import format_duration, parse_duration, parse_time, ticket_id

NOW = datetime(2030, 1, 31, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "seconds"), [
    ("90m", 5400), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("45s", 45), ("1w", 604800), ("30", 1800),
    (" 2H ", 7200),
])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "2x", "h", "1.5h", "-1h", "0m", "2h 30m", "1h30"])
def test_bad_durations_are_usage_errors_naming_the_option(text):
    with pytest.raises(ClientError) as error:
        parse_duration(text, "--by")
    assert error.value.code == ExitCode.USAGE and error.value.message.startswith("--by:")


def test_times():
    assert parse_time("now", NOW) == NOW
    assert parse_time("+30m", NOW) == NOW + timedelta(minutes=30)
    assert parse_time("in 2h", NOW) == NOW + timedelta(hours=2)
    assert parse_time("2030-02-01T10:00+02:00", NOW) == datetime(2030, 2, 1, 8, 0, tzinfo=UTC)
    naive = parse_time("2030-02-01T10:00", NOW)  # local time, whatever the zone here
    assert naive.tzinfo == UTC and naive == datetime(2030, 2, 1, 10, 0).astimezone()
    with pytest.raises(ClientError) as error:
        parse_time("tomorrow", NOW, "--until")
    assert error.value.code == ExitCode.USAGE and "--until" in error.value.message


def test_ticket_ids_and_formatting():
    assert ticket_id(" 6F9619FF-8B86-D011-B42D-00CF4FC964FF ") == "6f9619ff-8b86-d011-b42d-00cf4fc964ff"
    with pytest.raises(ClientError):
        ticket_id("42")
    assert [format_duration(s) for s in (0, 59, 5400, 90061)] == ["0s", "59s", "1h30m", "1d1h1m1s"]
