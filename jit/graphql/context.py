from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from jit.auth.service import Identity
from jit.directory.models import Account, Group, PermissionSet, User
from jit.runtime import Runtime


def _loader(model: type, key: str) -> DataLoader[Any, Any]:
    async def load(keys: list[str]) -> list[Any]:
        rows = {getattr(r, key): r for r in await model.filter(**{f"{key}__in": list(set(keys))})}
        return [rows.get(k) for k in keys]

    return DataLoader(load_fn=load)


def _directory_loader() -> DataLoader[Any, Any]:
    """The synced directory as rules name it, read once per request (jit.authz.service)."""
    async def load(keys: list[str]) -> list[Any]:
        from jit.authz.service import load_directory

        directory = await load_directory()
        return [directory for _ in keys]

    return DataLoader(load_fn=load)


def _ou_name_path_loader() -> DataLoader[Any, Any]:
    """OU id -> name path ("/Workloads/Prod"); one query for every OU a response names."""
    async def load(keys: list[str]) -> list[str | None]:
        from jit.rules.service import ou_name_paths

        paths = dict(await ou_name_paths(include_removed=True))
        return [paths.get(k) for k in keys]

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
    users: DataLoader[Any, Any] = field(default_factory=lambda: _loader(User, "id"))
    accounts: DataLoader[Any, Any] = field(default_factory=lambda: _loader(Account, "id"))
    permission_sets: DataLoader[Any, Any] = field(default_factory=lambda: _loader(PermissionSet, "arn"))
    groups: DataLoader[Any, Any] = field(default_factory=lambda: _loader(Group, "id"))
    ou_name_paths: DataLoader[Any, Any] = field(default_factory=_ou_name_path_loader)
    directory: DataLoader[Any, Any] = field(default_factory=_directory_loader)

    @property
    def actor(self) -> User:
        if self.user is None:  # the HTTP and websocket entry points authenticate first
            raise PermissionError("unauthenticated")
        return self.user
