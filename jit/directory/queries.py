"""Read-side queries over the directory. Writes belong to jit.directory.service.

"Live" means not marked removed by the last sync. Lookups by id (the API's dataloaders) still
find removed rows so that old tickets keep resolving; everything that lists or chooses reads
only live rows, through `live`.
"""

from __future__ import annotations

from typing import TypeVar

from tortoise.queryset import QuerySet

from jit.directory.models import Account, Group, OrganizationalUnit, PermissionSet, User
from jit.ids import is_digits

_Row = TypeVar("_Row", Account, Group, OrganizationalUnit, PermissionSet, User)


def live(model: type[_Row]) -> QuerySet[_Row]:
    """The rows of a directory table that the last sync still found."""
    return model.filter(removed_at=None)


def is_account_id(text: str) -> bool:
    """An AWS account id: twelve digits."""
    return is_digits(text) and len(text) == 12


async def live_account(id_or_name: str) -> Account | None:
    """A live account named by its 12-digit id or by its name."""
    by = {"id": id_or_name} if is_account_id(id_or_name) else {"name": id_or_name}
    return await live(Account).filter(**by).first()


async def live_permission_set(arn_or_name: str) -> PermissionSet | None:
    """A live permission set named by its ARN or by its name."""
    return await live(PermissionSet).filter(arn=arn_or_name).first() or \
        await live(PermissionSet).filter(name=arn_or_name).first()


async def live_user(user_id: str) -> User | None:
    return await live(User).get_or_none(id=user_id)


async def user_by_name(user_name: str) -> User | None:
    return await live(User).filter(user_name=user_name).first()


async def groups_of_user(user_id: str) -> list[Group]:
    """The live groups a user belongs to, by name."""
    return await live(Group).filter(memberships__user_id=user_id).order_by("display_name")


async def accounts_under(ou_id: str) -> list[Account]:
    """Live accounts in the unit or any unit nested below it, by name; the root id covers them all."""
    return await live(Account).filter(ou_path__contains=f"/{ou_id}/").order_by("name")


async def accounts(include_removed: bool = False) -> list[Account]:
    """Accounts by name: the live ones, or every one the directory ever held."""
    return await (Account.all() if include_removed else live(Account)).order_by("name")


async def organizational_units() -> list[OrganizationalUnit]:
    return await live(OrganizationalUnit).order_by("path")


async def permission_sets() -> list[PermissionSet]:
    return await live(PermissionSet).order_by("name")


async def users() -> list[User]:
    return await live(User).order_by("user_name")


async def groups() -> list[Group]:
    return await live(Group).order_by("display_name")
