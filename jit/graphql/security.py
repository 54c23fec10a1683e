"""Schema extensions that guard every operation: document limits, scopes and rate limits.

DocumentGuard validates every document, over HTTP and websockets alike: first its size
(jit.graphql.limits: depth, aliases and cost, measured in one pass), and only a document
within the limits gets graphql-core's standard rules, whose work grows with its expansion.

The scope guard looks at the root fields of the operation after validation and refuses
the whole operation when any root field is unmapped (declared by jit.graphql.resolver) or needs a scope
the caller's token lacks. It runs for queries, mutations and subscriptions alike.
"""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLID,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationRule,
    VariableDefinitionNode,
    get_named_type,
)
from graphql.utilities import get_operation_ast, type_from_ast
from graphql.validation import NoSchemaIntrospectionCustomRule, validate
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    SchemaExtension,
)
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from jit.config import Settings
from jit.graphql.limits import Limits, check
from jit.graphql.rate_limit import take
from jit.graphql.resolver import required_scopes

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


def operation_root_fields(document: DocumentNode, operation_name: str | None) -> tuple[str, list[str]] | None:
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


def _non_ascii_id(value: object, type_: object) -> bool:
    """Whether a raw variable value holds a non-ASCII ID anywhere its declared type has one."""
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        items = value if isinstance(value, list) else [value]
        return any(_non_ascii_id(item, type_.of_type) for item in items)
    if isinstance(type_, GraphQLInputObjectType):
        return isinstance(value, dict) and any(
            _non_ascii_id(value[name], field.type) for name, field in type_.fields.items() if name in value)
    return type_ is GraphQLID and isinstance(value, str) and not value.isascii()


def ascii_ids_rule(variables: dict[str, Any] | None) -> type[ValidationRule]:
    """Refuses an ID that is not ASCII, in the document or the variables: Python reads "١٢"
    as 12 (int, UUID), so such an id could name a row that its text does not."""
    values = variables if isinstance(variables, dict) else {}

    class AsciiIdsRule(ValidationRule):
        def enter_string_value(self, node: StringValueNode, *_args: object) -> None:
            if get_named_type(self.context.get_input_type()) is GraphQLID and not node.value.isascii():
                self.report_error(_error("an ID is ASCII letters, digits and punctuation only", "BAD_INPUT"))

        def enter_variable_definition(self, node: VariableDefinitionNode, *_args: object) -> None:
            name = node.variable.name.value
            if name in values and _non_ascii_id(values[name], type_from_ast(self.context.schema, node.type)):
                self.report_error(_error(f"${name}: an ID is ASCII letters, digits and punctuation only",
                                         "BAD_INPUT"))

    return AsciiIdsRule


class DocumentGuard(SchemaExtension):
    """Validation in two steps: the document's size against the limits, then, only for a
    document within them, graphql-core's standard rules (with suggestions such as "Did you
    mean 'ticket'?" left out when the settings say so)."""

    def __init__(self, limits: Limits, hide_suggestions: bool) -> None:
        self.limits = limits
        self.hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        document = ec.graphql_document
        if document is not None and ec.pre_execution_errors is None:
            schema = ec.schema._schema
            errors = check(schema, document, ec.variables, self.limits)
            if not errors:
                rules = (*ec.validation_rules, MaybeNullValidationRule, OneOfInputValidationRule,
                         ascii_ids_rule(ec.variables))
                errors = validate(schema, document, rules, hide_suggestions=self.hide_suggestions)
            # Strawberry's own validation runs only when no extension has done it.
            ec.pre_execution_errors = errors
        yield


class MutationRateLimit(SchemaExtension):
    """Counts each mutation root field per user in a sliding window kept in Redis, shared by
    every replica: at most JIT_MUTATION_RATE_LIMIT in any JIT_MUTATION_RATE_WINDOW seconds.
    Over HTTP a refusal is a 429 with Retry-After."""

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        ctx = ec.context
        identity = getattr(ctx, "identity", None)
        found = operation_root_fields(ec.graphql_document, ec.operation_name) if ec.graphql_document else None
        if identity is not None and found is not None and found[0] == "Mutation" and found[1]:
            rt = ctx.runtime
            limit, window = rt.settings.mutation_rate_limit, rt.settings.mutation_rate_window
            wait = await take(rt.redis, f"jit:ratelimit:mutation:{identity.user.id}", rt.clock.now().timestamp(),
                              window, limit, len(found[1]))
            if wait is not None:
                retry = max(1, math.ceil(wait))
                response = getattr(ctx, "response", None)
                if response is not None:  # HTTP; a websocket has no status to set
                    response.status_code = 429
                    response.headers["Retry-After"] = str(retry)
                raise _error(
                    f"too many changes: at most {limit} mutations per {window} s; try again in {retry} s",
                    "RATE_LIMITED", retryAfterSeconds=retry,
                )
        yield


def _should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        # Parse, validation and guard errors, and a variable's value that does not fit its
        # type, describe the caller's own document.
        return False
    return not isinstance(original, ValueError) or type(original).__module__.startswith(("tortoise", "asyncpg", "redis"))


class FastMaskErrors(MaskErrors):
    """MaskErrors without its per-result `isinstance` against a runtime-checkable Protocol,
    which cost more than executing the event itself once a thousand subscribers each
    received the same (shared) result. Same rule: a result with errors has them masked."""

    def _process_result(self, result: object) -> None:
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]


def build_extensions(settings: Settings | None) -> list[Any]:
    """The extensions of a served schema; with no settings, the plain schema for export."""
    # Factories, not instances: each request gets fresh extensions (MaskErrors keeps state).
    def masking() -> MaskErrors:
        return FastMaskErrors(should_mask_error=_should_mask, error_message="Unexpected error.")

    if settings is None:
        return [masking]
    s = settings
    limits = Limits(max_depth=s.graphql_max_depth, max_aliases=s.graphql_max_aliases, max_cost=s.graphql_max_cost,
                    list_size=s.graphql_cost_list_size)
    extensions: list[Any] = [lambda: MaxTokensLimiter(max_token_count=s.graphql_max_tokens)]
    if not settings.introspection_enabled:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    extensions += [lambda: DocumentGuard(limits, hide_suggestions=not s.suggestions_enabled),
                   ScopeGuard, NoNulText, MutationRateLimit, masking]
    return extensions
