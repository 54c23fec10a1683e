"""The credential behind the operation being executed, for the audit log and for decisions.

The GraphQL layer sets it around each operation (jit/graphql/credentials.py), the Slack
endpoints around each signed request (jit/slack/routes.py); the audit
log writes it on every event it records meanwhile, and the services that record a
decision (tickets, extensions, break-glass reviews, rule changes, delegations) store it
and refuse a token minted for its owner by someone else. Jobs, the command line and the
sign-in routes run with none.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from jit.errors import NotAllowed

if TYPE_CHECKING:
    from jit.auth.service import Identity

_acting: ContextVar[Identity | None] = ContextVar("jit_acting_credential", default=None)


@contextmanager
def acting_as(identity: Identity | None) -> Iterator[None]:
    token = _acting.set(identity)
    try:
        yield
    finally:
        _acting.reset(token)


def current() -> Identity | None:
    return _acting.get()


def credential_ref(identity: Identity | None = None) -> str | None:
    """"token:<id>", "session:<id>" or "slack:<Slack user id>" for the acting (or given) identity; None for none."""
    identity = identity if identity is not None else _acting.get()
    if identity is None:
        return None
    if identity.token_id is not None:
        return f"token:{identity.token_id}"
    if identity.session_id is not None:
        return f"session:{identity.session_id}"
    if identity.slack_user_id is not None:
        return f"slack:{identity.slack_user_id}"[:32]
    return None


def require_own_credential(what: str, field: str | None = "ticketId") -> str | None:
    """The acting credential's reference, after refusing one minted for its owner by
    someone else: such a token may read and request, but its decisions never count."""
    identity = _acting.get()
    if identity is not None and identity.minted_for_other:
        raise NotAllowed(f"a token minted for you by someone else cannot {what}; sign in or use a token of "
                         "your own", field=field)
    return credential_ref(identity)
