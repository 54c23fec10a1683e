from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from jit.auth.scopes import Scope
from jit.directory import models
from jit.directory import queries as directory
from jit.graphql.context import Context
from jit.graphql.resolver import query


@strawberry.type
class Tag:
    key: str
    value: str


@strawberry.type
class Group:
    id: strawberry.ID
    display_name: str
    description: str
    removed_at: datetime | None

    @classmethod
    def of(cls, row: models.Group) -> Group:
        return cls(id=strawberry.ID(row.id), display_name=row.display_name, description=row.description,
                   removed_at=row.removed_at)


async def groups_of(user_id: str) -> list[Group]:
    """The groups a user belongs to (User.groups, and Query.me)."""
    return [Group.of(g) for g in await directory.groups_of_user(user_id)]


@strawberry.type
class User:
    id: strawberry.ID
    user_name: str
    display_name: str
    email: str
    removed_at: datetime | None

    @strawberry.field
    async def groups(self) -> list[Group]:
        return await groups_of(str(self.id))

    @classmethod
    def of(cls, row: models.User) -> User:
        return cls(id=strawberry.ID(row.id), user_name=row.user_name, display_name=row.display_name,
                   email=row.email, removed_at=row.removed_at)


@strawberry.type
class Account:
    id: strawberry.ID
    name: str
    email: str
    status: str
    parent_id: str
    organizational_unit_path: str = strawberry.field(description="OU ids from the root: /r-xxxx/ou-a/ou-b/")
    tags: list[Tag]
    removed_at: datetime | None

    @strawberry.field(description="The account's OU by name from the root, as rules and targets name it: "
                                  "/Workloads/Prod (the root is /).")
    async def organizational_unit_name_path(self, info: Info[Context, None]) -> str | None:
        return await info.context.ou_name_paths.load(self.parent_id)

    @classmethod
    def of(cls, row: models.Account) -> Account:
        return cls(
            id=strawberry.ID(row.id), name=row.name, email=row.email, status=row.status, parent_id=row.parent_id,
            organizational_unit_path=row.ou_path, removed_at=row.removed_at,
            tags=[Tag(key=k, value=v) for k, v in sorted((row.tags or {}).items())],
        )


@strawberry.type
class OrganizationalUnit:
    id: strawberry.ID
    name: str
    parent_id: str | None
    path: str = strawberry.field(description="OU ids from the root: /r-xxxx/ou-a/ou-b/")
    removed_at: datetime | None

    @strawberry.field(description="Names from the root, as rules and targets name OUs: /Workloads/Prod (the root is /).")
    async def name_path(self, info: Info[Context, None]) -> str:
        return await info.context.ou_name_paths.load(str(self.id)) or self.name

    @classmethod
    def of(cls, row: models.OrganizationalUnit) -> OrganizationalUnit:
        return cls(id=strawberry.ID(row.id), name=row.name, parent_id=row.parent_id, path=row.path,
                   removed_at=row.removed_at)


@strawberry.type
class PermissionSet:
    arn: strawberry.ID
    name: str
    description: str
    session_duration: str
    removed_at: datetime | None

    @classmethod
    def of(cls, row: models.PermissionSet) -> PermissionSet:
        return cls(arn=strawberry.ID(row.arn), name=row.name, description=row.description,
                   session_duration=row.session_duration, removed_at=row.removed_at)


@strawberry.type
class DirectoryQuery:
    @query(Scope.READ, description="Accounts of the organization, as last synced.")
    async def accounts(self, info: Info[Context, None], include_removed: bool = False) -> list[Account]:
        return [Account.of(a) for a in await directory.accounts(include_removed)]

    @query(Scope.READ)
    async def organizational_units(self, info: Info[Context, None]) -> list[OrganizationalUnit]:
        return [OrganizationalUnit.of(o) for o in await directory.organizational_units()]

    @query(Scope.READ)
    async def permission_sets(self, info: Info[Context, None]) -> list[PermissionSet]:
        return [PermissionSet.of(p) for p in await directory.permission_sets()]

    @query(Scope.READ)
    async def users(self, info: Info[Context, None]) -> list[User]:
        return [User.of(u) for u in await directory.users()]

    @query(Scope.READ)
    async def groups(self, info: Info[Context, None]) -> list[Group]:
        return [Group.of(g) for g in await directory.groups()]
