"""What every client command needs: a connected client and names resolved to ids."""

from __future__ import annotations

import argparse
from typing import Any

from jit.client import documents
from jit.client.config import load_config
from jit.client.errors import ClientError, ExitCode, from_union
from jit.client.transport import GraphQLClient


def connect() -> GraphQLClient:
    return GraphQLClient(load_config())


def output_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--output", "-o", choices=("table", "json"), default="table",
                        help="table for people (default), json for scripts")
    return parent


def ticket_of(result: dict[str, Any]) -> dict[str, Any]:
    """The Ticket member of a TicketResult union, or its typed error raised."""
    if result.get("__typename") != "Ticket":
        raise from_union(result)
    return result


def resolve_account(client: GraphQLClient, text: str) -> dict[str, Any]:
    """An account by id or by name; a name that matches several accounts is an error."""
    accounts: list[dict[str, Any]] = client.query(documents.ACCOUNTS)["accounts"]
    wanted = text.strip()
    for account in accounts:
        if account["id"] == wanted:
            return account
    matches = [a for a in accounts if a["name"] == wanted] or [a for a in accounts if a["name"].lower() == wanted.lower()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ClientError(f"--account: no account with id or name {wanted!r}", ExitCode.INVALID)
    ids = ", ".join(sorted(a["id"] for a in matches))
    raise ClientError(f"--account: the name {wanted!r} is ambiguous ({len(matches)} accounts: {ids}); use the id",
                      ExitCode.INVALID)


def resolve_user(client: GraphQLClient, text: str, option: str) -> dict[str, Any]:
    users: list[dict[str, Any]] = client.query(documents.USERS)["users"]
    wanted = text.strip()
    for user in users:
        if user["id"] == wanted or user["userName"] == wanted:
            return user
    matches = [u for u in users if u["userName"].lower() == wanted.lower()]
    if len(matches) == 1:
        return matches[0]
    raise ClientError(f"{option}: no user with id or user name {wanted!r}", ExitCode.INVALID)


def require_operation(client: GraphQLClient, root: str, field: str) -> None:
    """Fails with UNSUPPORTED when the server's schema lacks `root.field` (an older server),
    before anything is sent that it could misread."""
    try:
        data = client.query("query Has($name: String!) { __type(name: $name) { fields { name } } }", name=root)
    except ClientError as exc:
        if exc.code != ExitCode.ERROR:
            raise
        # Introspection turned off: send the operation; a server without it says
        # "Cannot query field", which is UNSUPPORTED too.
        return
    fields = {f["name"] for f in ((data.get("__type") or {}).get("fields") or [])}
    if field not in fields:
        raise ClientError(f"this server has no {field} {root.lower()}; it needs a newer JIT", ExitCode.UNSUPPORTED)
