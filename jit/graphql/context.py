from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from jit.audit.service import ticket_histories
from jit.auth.service import Identity
from jit.authz.service import load_directory
from jit.directory.models import Account, Group, PermissionSet, User
from jit.rules.service import ou_name_paths
from jit.runtime import Runtime
from jit.tickets import queries as ticket_queries


def _loader(model: type[Model], key: str) -> DataLoader[str, Any]:
    async def load(keys: list[str]) -> list[Any]:
        rows = {getattr(r, key): r for r in await model.filter(**{f"{key}__in": list(set(keys))})}
        return [rows.get(k) for k in keys]

    return DataLoader(load_fn=load)


def _directory_loader() -> DataLoader[str, Any]:
    """The synced directory as rules name it, read once per request (jit.authz.service)."""
    async def load(keys: list[str]) -> list[Any]:

        directory = await load_directory()
        return [directory for _ in keys]

    return DataLoader(load_fn=load)


def _ou_name_path_loader() -> DataLoader[str, str | None]:
    """OU id -> name path ("/Workloads/Prod"); one query for every OU a response names."""
    async def load(keys: list[str]) -> list[str | None]:

        paths = dict(await ou_name_paths(include_removed=True))
        return [paths.get(k) for k in keys]

    return DataLoader(load_fn=load)


def _parts_loader(fetch: Callable[[Sequence[str]], Awaitable[list[list[Any]]]]) -> DataLoader[str, list[Any]]:
    """Ticket id -> its rows of one kind (jit.tickets.queries): one query for a whole page of tickets."""
    async def load(keys: list[str]) -> list[list[Any]]:
        return await fetch(keys)

    return DataLoader(load_fn=load)


@dataclass
class Context:
    runtime: Runtime
    user: User | None = None
    # How the caller signed in (token or session) and the scopes that allows.
    identity: Identity | None = None
    connection_params: dict[str, Any] | None = None
    request: Any = None
    response: Any = None
    users: DataLoader[str, Any] = field(default_factory=lambda: _loader(User, "id"))
    accounts: DataLoader[str, Any] = field(default_factory=lambda: _loader(Account, "id"))
    permission_sets: DataLoader[str, Any] = field(default_factory=lambda: _loader(PermissionSet, "arn"))
    groups: DataLoader[str, Any] = field(default_factory=lambda: _loader(Group, "id"))
    ou_name_paths: DataLoader[str, str | None] = field(default_factory=_ou_name_path_loader)
    directory: DataLoader[str, Any] = field(default_factory=_directory_loader)
    ticket_targets: DataLoader[str, list[Any]] = field(default_factory=lambda: _parts_loader(ticket_queries.targets_of))
    ticket_steps: DataLoader[str, list[Any]] = field(default_factory=lambda: _parts_loader(ticket_queries.steps_of))
    ticket_decisions: DataLoader[str, list[Any]] = field(
        default_factory=lambda: _parts_loader(ticket_queries.decisions_of))
    ticket_extensions: DataLoader[str, list[Any]] = field(
        default_factory=lambda: _parts_loader(ticket_queries.extensions_of))
    ticket_stacks: DataLoader[str, list[Any]] = field(default_factory=lambda: _parts_loader(ticket_queries.stacks_of))
    ticket_histories: DataLoader[str, list[Any]] = field(default_factory=lambda: _parts_loader(ticket_histories))
    extension_decisions: DataLoader[str, list[Any]] = field(
        default_factory=lambda: _parts_loader(ticket_queries.extension_decisions_of))

    @property
    def actor(self) -> User:
        if self.user is None:  # the HTTP and websocket entry points authenticate first
            raise PermissionError("unauthenticated")
        return self.user
