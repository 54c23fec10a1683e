"""The scopes an API token may hold.

Each root field of Query, Mutation and Subscription declares the scopes it needs where it is
defined (jit.graphql.resolver: `@query(Scope.READ)`, `@mutation(Scope.ADMIN, ...)`). A field
declared any other way is refused for every caller (fail closed), so a new mutation cannot ship
without someone deciding which scope it needs. A caller passes when it holds any one of the
declared scopes; its owner's own authorization is checked by the services as always.
"""

from __future__ import annotations

from enum import Enum


class Scope(str, Enum):
    READ = "read"  # queries and subscriptions
    REQUEST = "request"  # request, cancel and revoke own tickets
    DECIDE = "decide"  # approve, reject, revoke as an approver
    ADMIN = "admin"  # manage approval rules and API tokens (if the owner may)


ALL_SCOPES = frozenset(Scope)


def parse_scopes(names: list[str] | tuple[str, ...] | set[str]) -> frozenset[Scope]:
    out = set()
    for name in names:
        try:
            out.add(Scope(name.strip().lower()))
        except ValueError:
            raise ValueError(f"unknown scope {name!r}; use {', '.join(s.value for s in Scope)}") from None
    return frozenset(out)
