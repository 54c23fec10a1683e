"""Warnings shown with a ticket: things that are allowed but that the requester should know."""

from __future__ import annotations

from jit.directory.models import PermissionSet
from jit.durations import session_seconds
from jit.tickets.models import Target, Ticket


def _human(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    m = rest // 60
    return " ".join(p for p in (f"{h}h" if h else "", f"{m}m" if m else "") if p) or f"{seconds}s"


async def session_warnings(ticket: Ticket, *, session_kill: bool) -> list[str]:
    """A session opened near the end of the ticket lasts the permission set's full session
    duration: say so when that is longer than the ticket itself."""
    arns = set(await Target.filter(ticket_id=ticket.id).values_list("permission_set_arn", flat=True))
    length = int((ticket.end_at - ticket.start_at).total_seconds())
    out = []
    for ps in sorted(await PermissionSet.filter(arn__in=list(arns)), key=lambda p: p.name):
        session = session_seconds(ps.session_duration)
        if session > length:
            out.append(
                f"{ps.name} sessions last up to {_human(session)}, longer than this ticket ({_human(length)}): "
                + ("sessions still open at an early revocation are ended by a deny policy; at the end time they "
                   "are not." if session_kill else "a session opened before the end stays valid after it.")
            )
    return out
