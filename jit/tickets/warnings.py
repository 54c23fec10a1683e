"""Warnings shown with a ticket: things that are allowed but that the requester should know."""

from __future__ import annotations

from jit.directory.models import PermissionSet
from jit.durations import session_seconds


def _human(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    m = rest // 60
    return " ".join(p for p in (f"{h}h" if h else "", f"{m}m" if m else "") if p) or f"{seconds}s"


def session_warnings(length_seconds: int, permission_sets: list[PermissionSet], *, session_kill: bool) -> list[str]:
    """A session opened near the end of the ticket lasts the permission set's full session
    duration: say so, per permission set, when that is longer than the ticket itself."""
    out = []
    for ps in sorted(permission_sets, key=lambda p: p.name):
        session = session_seconds(ps.session_duration)
        if session > length_seconds:
            out.append(
                f"{ps.name} sessions last up to {_human(session)}, longer than this ticket ({_human(length_seconds)}): "
                + ("sessions still open at an early revocation are ended by a deny policy; at the end time they "
                   "are not." if session_kill else "a session opened before the end stays valid after it.")
            )
    return out
