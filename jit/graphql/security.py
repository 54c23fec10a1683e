"""Schema extensions that guard every operation: scopes, rate limits and document limits.

The scope guard looks at the root fields of the operation after validation and refuses
the whole operation when any root field is unmapped (jit.auth.scopes) or needs a scope
the caller's token lacks. It runs for queries, mutations and subscriptions alike.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.utilities import get_operation_ast
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from jit.auth.scopes import required_scopes
from jit.config import Settings

_ROOT_TYPE = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}


def _root_fields(selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]) -> Iterator[str]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _root_fields(fragment.selection_set, fragments)


def operation_root_fields(document, operation_name: str | None) -> tuple[str, list[str]] | None:
    operation: OperationDefinitionNode | None = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return _ROOT_TYPE[operation.operation.value], list(_root_fields(operation.selection_set, fragments))


def _error(message: str, code: str, **extra: object) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extra})


class ScopeGuard(SchemaExtension):
    """Refuses root fields that are unmapped or beyond the caller's scopes."""

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        identity = getattr(ec.context, "identity", None)
        found = operation_root_fields(ec.graphql_document, ec.operation_name) if ec.graphql_document else None
        if found is not None:
            root, fields = found
            for name in fields:
                needed = required_scopes(root, name)
                if needed is None:
                    raise _error(f"{root}.{name} is not available", "FORBIDDEN", field=name)
                if identity is None or not identity.allows(needed):
                    wanted = " or ".join(sorted(s.value for s in needed))
                    raise _error(f"this token lacks the scope for {name}: needs {wanted}", "FORBIDDEN_SCOPE",
                                 field=name)
        yield


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class NoNulText(SchemaExtension):
    """Refuses NUL characters in any input: PostgreSQL cannot store them in text, and no
    name, id or justification needs one."""

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        in_document = ec.query is not None and ("\x00" in ec.query or re.search(r"\\u0000|\\u\{0+\}", ec.query, re.I))
        if in_document or _has_nul(ec.variables or {}):
            raise _error("text may not contain NUL characters", "BAD_INPUT")
        yield


class MutationRateLimit(SchemaExtension):
    """Counts each mutation root field per user in a Redis window shared by every replica."""

    async def on_execute(self):  # type: ignore[override]
        ec = self.execution_context
        ctx = ec.context
        identity = getattr(ctx, "identity", None)
        found = operation_root_fields(ec.graphql_document, ec.operation_name) if ec.graphql_document else None
        if identity is not None and found is not None and found[0] == "Mutation" and found[1]:
            rt = ctx.runtime
            limit, window = rt.settings.mutation_rate_limit, rt.settings.mutation_rate_window
            now = rt.clock.now().timestamp()
            slot = int(now // window)
            key = f"jit:ratelimit:mutation:{identity.user.id}:{slot}"
            async with rt.redis.pipeline(transaction=True) as pipe:
                pipe.incrby(key, len(found[1]))
                pipe.expire(key, window * 2)
                count, _ = await pipe.execute()
            if count > limit:
                retry = max(1, math.ceil((slot + 1) * window - now))
                raise _error(
                    f"too many changes: at most {limit} mutations per {window} s; try again in {retry} s",
                    "RATE_LIMITED", retryAfterSeconds=retry,
                )
        yield


def _should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None:
        return False  # parse, validation and guard errors describe the caller's own document
    return not isinstance(original, ValueError) or type(original).__module__.startswith(("tortoise", "asyncpg", "redis"))


class FastMaskErrors(MaskErrors):
    """MaskErrors without its per-result `isinstance` against a runtime-checkable Protocol,
    which cost more than executing the event itself once a thousand subscribers each
    received the same (shared) result. Same rule: a result with errors has them masked."""

    def _process_result(self, result: object) -> None:
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]


def build_extensions(settings: Settings | None) -> list:
    """The extensions of a served schema; with no settings, the plain schema for export."""
    # Factories, not instances: each request gets fresh extensions (MaskErrors keeps state).
    def masking() -> MaskErrors:
        return FastMaskErrors(should_mask_error=_should_mask, error_message="Unexpected error.")

    if settings is None:
        return [masking]
    s = settings
    extensions: list = [
        lambda: MaxTokensLimiter(max_token_count=s.graphql_max_tokens),
        lambda: MaxAliasesLimiter(max_alias_count=s.graphql_max_aliases),
        lambda: QueryDepthLimiter(max_depth=s.graphql_max_depth),
    ]
    if not settings.introspection_enabled:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    extensions += [ScopeGuard, NoNulText, MutationRateLimit, masking]
    return extensions
