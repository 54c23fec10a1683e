"""Read-side queries over the directory. Writes belong to jit.directory.service.

"Live" means not marked removed by the last sync; lookups by id still find removed rows
so that old tickets keep resolving.
"""

from __future__ import annotations

from jit.directory.models import Account, Group, PermissionSet, User


async def groups_of_user(user_id: str) -> list[Group]:
    return await Group.filter(memberships__user_id=user_id, removed_at=None).order_by("display_name")


async def user_by_name(user_name: str) -> User | None:
    return await User.filter(user_name=user_name, removed_at=None).first()


async def accounts_under(ou_id: str) -> list[Account]:
    """Live accounts in the unit or any unit nested below it; the root id covers them all."""
    return await Account.filter(ou_path__contains=f"/{ou_id}/", removed_at=None).order_by("name")


async def live_accounts() -> list[Account]:
    return await Account.filter(removed_at=None).order_by("name")


async def live_permission_sets() -> list[PermissionSet]:
    return await PermissionSet.filter(removed_at=None).order_by("name")
