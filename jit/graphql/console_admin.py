"""Admin helpers the console needs: start a directory sync, and preview who can request
and who approves a target. Both are answered by services; this only maps types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from jit.auth.scopes import Scope
from jit.directory import sync_requests
from jit.graphql.context import Context
from jit.graphql.directory import User
from jit.graphql.errors import NotAllowedError, NotFoundError, ValidationError, WrongStateError
from jit.graphql.resolver import OUTPUT, mutation, query
from jit.rules import preview


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
    found = await preview.approval_preview(info.context.runtime, info.context.actor.id, account_id, permission_set)
    return ApprovalPreview(account_id=found.account_id, permission_set_arn=found.permission_set_arn, rules=[
        PreviewRule(
            name=r.name, auto_approved=r.auto_approved, max_duration_seconds=r.max_duration_seconds,
            requesters=await _users(info, r.requester_ids),
            steps=[PreviewStep(name=s.name, required=s.required, approvers=await _users(info, s.approver_ids))
                   for s in r.steps],
            via_permission_set_groups=r.via_permission_set_groups, requestable_alone=r.requestable_alone,
        )
        for r in found.rules
    ])


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
