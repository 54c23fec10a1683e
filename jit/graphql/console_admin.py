"""Admin helpers the console needs: start a directory sync, and preview who can request
and who approves a target. Both are answered by services; this only maps types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from jit import errors
from jit.auth.scopes import Scope
from jit.directory import sync_requests
from jit.directory.models import Account as AccountRow
from jit.directory.models import PermissionSet as PsRow
from jit.graphql.context import Context
from jit.graphql.directory import User
from jit.graphql.errors import NotAllowedError, NotFoundError, ValidationError, WrongStateError
from jit.graphql.resolver import OUTPUT, mutation, query
from jit.ids import is_digits
from jit.rules.models import PermissionSetGroup as PermissionSetGroupRow
from jit.rules.models import allows_alone


@strawberry.type
class DirectorySyncStatus:
    last_synced_at: datetime | None = strawberry.field(description="When the last successful sync finished.")
    interval_seconds: int = strawberry.field(description="How often the worker syncs on its own (JIT_SYNC_INTERVAL).")


@strawberry.type
class DirectorySyncRequested:
    job_id: str
    queued: bool = strawberry.field(description="False when this minute's sync was already queued or has run.")
    last_synced_at: datetime | None


SyncDirectoryResult = Annotated[
    DirectorySyncRequested | NotAllowedError | WrongStateError, strawberry.union("SyncDirectoryResult")
]


@strawberry.type
class PreviewStep:
    name: str
    required: int
    approvers: list[User]


@strawberry.type
class PreviewRule:
    name: str
    auto_approved: bool
    max_duration_seconds: int
    requesters: list[User]
    steps: list[PreviewStep]
    via_permission_set_groups: list[str] = strawberry.field(description=(
        "The rule's permission set groups that contain this permission set (empty: the rule names it itself)."))
    requestable_alone: bool = strawberry.field(description=(
        "Whether it may be requested by itself under this rule; false when the rule covers it only through "
        "bundle-only permission set groups (then only the whole group is requestable)."))


@strawberry.type(description="Who may request a target for themself and who approves it, rule by rule, strictest first.")
class ApprovalPreview:
    account_id: str
    permission_set_arn: str
    rules: list[PreviewRule]


ApprovalPreviewResult = Annotated[
    ApprovalPreview | ValidationError | NotAllowedError | NotFoundError, strawberry.union("ApprovalPreviewResult")
]


async def _users(info: Info[Context, None], ids: list[str]) -> list[User]:
    # The request's user loader reads each person once, however many rules and steps name them.
    return [User.of(row) for row in await info.context.users.load_many(ids) if row is not None]


async def _preview(info: Info[Context, None], account_id: str, permission_set: str) -> ApprovalPreview:
    rt = info.context.runtime
    await rt.authz.require_admin(info.context.actor.id, "preview approval rules")
    # An account is named by its 12-digit id or its name.
    by_id = is_digits(account_id) and len(account_id) == 12
    account = await AccountRow.filter(removed_at=None, **({"id": account_id} if by_id else {"name": account_id})).first()
    if account is None:
        raise errors.NotFound(f"no live account {account_id!r}", field="accountId")
    ps = await PsRow.filter(removed_at=None, arn=permission_set).first() or \
        await PsRow.filter(removed_at=None, name=permission_set).first()
    if ps is None:
        raise errors.NotFound(f"no live permission set {permission_set!r}", field="permissionSet")
    rules = []
    bundles = dict(await PermissionSetGroupRow.all().values_list("name", "permission_sets"))
    for rule, requesters, steps in await rt.authz.preview(account, ps.arn):
        via = [] if ps.name in rule.permission_sets else [
            g for g in rule.permission_set_groups or [] if ps.name in bundles.get(g, [])]
        rules.append(PreviewRule(
            via_permission_set_groups=via, requestable_alone=allows_alone(rule, ps.name, None),
            name=rule.name, auto_approved=not rule.steps, max_duration_seconds=rule.max_duration_seconds,
            requesters=await _users(info, requesters),
            steps=[PreviewStep(name=spec.get("name", f"Step {i + 1}"), required=int(spec.get("required", 1)),
                               approvers=await _users(info, ids))
                   for i, (spec, ids) in enumerate(zip(rule.steps, steps))],
        ))
    return ApprovalPreview(account_id=account.id, permission_set_arn=ps.arn, rules=rules)


@strawberry.type
class ConsoleAdminQuery:
    @query(Scope.READ, description="When the directory was last synced from AWS.")
    async def directory_sync(self, info: Info[Context, None]) -> DirectorySyncStatus:
        return DirectorySyncStatus(
            last_synced_at=await sync_requests.last_synced_at(),
            interval_seconds=info.context.runtime.settings.sync_interval,
        )

    @query(Scope.READ, errors=OUTPUT, description="Admins only: who may request a target and who approves it.")
    async def approval_preview(
        self, info: Info[Context, None], account_id: str, permission_set: str
    ) -> ApprovalPreviewResult:
        return await _preview(info, account_id, permission_set)


@strawberry.type
class ConsoleAdminMutation:
    @mutation(Scope.ADMIN, errors=OUTPUT,
              description="Admins only: sync the directory from AWS now (one sync per minute at most).")
    async def sync_directory(self, info: Info[Context, None]) -> SyncDirectoryResult:
        request = await sync_requests.request_sync(info.context.runtime, info.context.actor)
        return DirectorySyncRequested(
            job_id=request.job_id, queued=request.queued, last_synced_at=await sync_requests.last_synced_at()
        )
