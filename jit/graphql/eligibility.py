"""What the caller may request: accounts paged and searched on the server, targets per account."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from jit import errors
from jit.auth.scopes import Scope
from jit.graphql.context import Context
from jit.graphql.directory import Account, PermissionSet
from jit.graphql.groups import PermissionSetGroup
from jit.graphql.resolver import query
from jit.graphql.tickets import PageInfo
from jit.rules import eligibility


@strawberry.type
class RequestableTarget:
    account: Account
    permission_set: PermissionSet | None = strawberry.field(description="Null when this choice is a permission set group.")
    permission_set_group: PermissionSetGroup | None = strawberry.field(
        description="Set when this choice is a whole permission set group (one assignment per permission set)."
    )
    max_duration_seconds: int
    justification_required: bool
    rule_name: str = strawberry.field(description="The strictest rule that would govern a request for it.")
    auto_approved: bool

    @classmethod
    def of(cls, choice: eligibility.Choice) -> RequestableTarget:
        return cls(
            account=Account.of(choice.account),
            permission_set=PermissionSet.of(choice.permission_set) if choice.permission_set else None,
            permission_set_group=PermissionSetGroup.of(choice.group) if choice.group else None,
            max_duration_seconds=choice.max_duration_seconds, justification_required=choice.justification_required,
            rule_name=choice.rule.name, auto_approved=choice.auto_approved,
        )


@strawberry.type
class RequestableAccountEdge:
    cursor: str
    node: Account


@strawberry.type
class RequestableAccountConnection:
    edges: list[RequestableAccountEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Matching accounts across all pages.")


@strawberry.type
class EligibilityQuery:
    @query(Scope.READ, description=(
        "Accounts where the caller may request at least one target, by name. `search` matches a "
        "name (any part, any case) or the start of an account id; `ouId` (an OU id or a name path such as "
        "/Workloads/Prod) keeps accounts under that OU, nested OUs included; an unknown OU is an error with "
        f"extensions.code NOT_FOUND and field ouId. At most {eligibility.MAX_PAGE} per page."
    ))
    async def requestable_accounts(
        self, info: Info[Context, None], search: str | None = None, ou_id: strawberry.ID | None = None,
        first: int = 50, after: str | None = None,
    ) -> RequestableAccountConnection:
        try:
            page = await eligibility.requestable_accounts(
                info.context.runtime.authz, info.context.actor.id, search=search,
                ou_id=str(ou_id) if ou_id else None, first=first, after=after,
            )
        except errors.NotFound as exc:
            raise GraphQLError(exc.message, extensions={"code": "NOT_FOUND", "field": exc.field}) from None
        except errors.ValidationFailed as exc:
            raise ValueError(exc.message) from None
        edges = [RequestableAccountEdge(cursor=eligibility.cursor_of(a), node=Account.of(a)) for a in page.accounts]
        return RequestableAccountConnection(
            edges=edges, total_count=page.total_count,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None),
        )

    @query(Scope.READ, description=(
        "What the caller may request, with the strictest governing rule for each. With `accountIds` "
        f"(at most {eligibility.MAX_ACCOUNTS}), only on those accounts; without, on every account, "
        "which suits small organizations and scripts."
    ))
    async def requestable_targets(
        self, info: Info[Context, None], account_ids: list[strawberry.ID] | None = None,
    ) -> list[RequestableTarget]:
        try:
            choices = await eligibility.requestable_targets(
                info.context.runtime.authz, info.context.actor.id,
                [str(a) for a in account_ids] if account_ids is not None else None,
            )
        except errors.ValidationFailed as exc:
            raise ValueError(exc.message) from None
        return [RequestableTarget.of(c) for c in choices]
