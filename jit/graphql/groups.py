from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from jit.auth.scopes import Scope
from jit.graphql.context import Context
from jit.graphql.errors import NotAllowedError, NotFoundError, ValidationError, WrongStateError
from jit.graphql.resolver import INPUT, mutation, query
from jit.rules import groups as service
from jit.rules.models import PermissionSetGroup as GroupRow
from jit.tickets.service import parse_uuid


@strawberry.type(description="A named bundle of permission sets; requested as one choice, granted as one assignment per permission set.")
class PermissionSetGroup:
    id: strawberry.ID
    name: str
    description: str
    permission_sets: list[str] = strawberry.field(description="Permission set names")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: GroupRow) -> PermissionSetGroup:
        return cls(id=strawberry.ID(str(row.id)), name=row.name, description=row.description,
                   permission_sets=list(row.permission_sets), created_at=row.created_at, updated_at=row.updated_at)


@strawberry.input
class PermissionSetGroupInput:
    name: str
    description: str = ""
    permission_sets: list[str] = strawberry.field(description="Permission set names")


@strawberry.type
class DeletedPermissionSetGroup:
    id: strawberry.ID


PermissionSetGroupResult = Annotated[
    PermissionSetGroup | ValidationError | NotAllowedError | NotFoundError | WrongStateError,
    strawberry.union("PermissionSetGroupResult"),
]
DeletePermissionSetGroupResult = Annotated[
    DeletedPermissionSetGroup | ValidationError | NotAllowedError | NotFoundError | WrongStateError,
    strawberry.union("DeletePermissionSetGroupResult"),
]


def _service(info: Info[Context, None]) -> service.GroupService:
    return service.GroupService(info.context.runtime)


def _spec(data: PermissionSetGroupInput) -> service.GroupSpec:
    return service.parse_group({"name": data.name, "description": data.description,
                                "permission_sets": data.permission_sets})


@strawberry.type
class GroupsQuery:
    @query(Scope.READ, description="Every permission set group.")
    async def permission_set_groups(self, info: Info[Context, None]) -> list[PermissionSetGroup]:
        return [PermissionSetGroup.of(g) for g in await service.list_groups()]


@strawberry.type
class GroupsMutation:
    @mutation(Scope.ADMIN, errors=INPUT, description="Admins only.")
    async def create_permission_set_group(
        self, info: Info[Context, None], input: PermissionSetGroupInput
    ) -> PermissionSetGroupResult:
        return PermissionSetGroup.of(await _service(info).create(_spec(input), info.context.actor.id))

    @mutation(Scope.ADMIN, errors=INPUT, description="Admins only. Replaces the whole group.")
    async def update_permission_set_group(
        self, info: Info[Context, None], id: strawberry.ID, input: PermissionSetGroupInput
    ) -> PermissionSetGroupResult:
        group_id: uuid.UUID = parse_uuid(id, "id")
        return PermissionSetGroup.of(await _service(info).update(group_id, _spec(input), info.context.actor.id))

    @mutation(Scope.ADMIN, errors=INPUT, description="Admins only. A group a rule is scoped by cannot be deleted.")
    async def delete_permission_set_group(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> DeletePermissionSetGroupResult:
        await _service(info).delete(parse_uuid(id, "id"), info.context.actor.id)
        return DeletedPermissionSetGroup(id=id)
