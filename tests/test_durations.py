"""jit.durations: the one parser of each kind of duration."""

from __future__ import annotations

import pytest

from jit.durations import MAX_AWS_SESSION_SECONDS, session_seconds, typed_seconds


@pytest.mark.parametrize(("iso", "seconds"), [
    ("PT1H", 3600), ("PT1H30M", 5400), ("PT12H", 43200), ("PT30M", 1800), ("PT45S", 45),
])
def test_aws_session_durations(iso, seconds):
    assert session_seconds(iso) == seconds


@pytest.mark.parametrize("iso", [None, "", "PT", "P1D", "1h", "garbage"])
def test_an_unreadable_session_duration_counts_as_aws_longest(iso):
    assert session_seconds(iso) == MAX_AWS_SESSION_SECONDS == 12 * 3600


@pytest.mark.parametrize(("text", "bare", "seconds"), [
    ("90m", "m", 5400), ("1h30m", "m", 5400), ("2w", "m", 1209600), ("30", "m", 1800), ("3", "d", 259200),
    (" 2H ", "m", 7200),
])
def test_typed_durations(text, bare, seconds):
    assert typed_seconds(text, bare_unit=bare) == seconds


@pytest.mark.parametrize("text", ["", "2x", "h", "1.5h", "-1h", "0m", "2h 30m", "1h30"])
def test_a_bad_typed_duration_says_what_is_wrong(text):
    with pytest.raises(ValueError, match="cannot read|longer than zero"):
        typed_seconds(text)


def test_token_expiry_reads_typed_durations_dates_and_never():
    from datetime import UTC, datetime, timedelta

    from jit.cli import _parse_expiry

    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert _parse_expiry(None, None, now) == now + timedelta(days=90)
    assert _parse_expiry("12h", None, now) == now + timedelta(hours=12)
    assert _parse_expiry("1d12h", None, now) == now + timedelta(hours=36)
    assert _parse_expiry("2027-01-31T10:00Z", None, now) == datetime(2027, 1, 31, 10, tzinfo=UTC)
    assert _parse_expiry("never", None, now) is None
    assert _parse_expiry("x", 7, now) == now + timedelta(days=7)
    for bad in ("0d", "5x", "soon"):
        with pytest.raises(SystemExit):
            _parse_expiry(bad, None, now)
