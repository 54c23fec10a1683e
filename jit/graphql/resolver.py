"""One way to write a root resolver: its scope on the field, its expected failures as typed results.

    @mutation(Scope.ADMIN, errors=INPUT, description="Admins only.")
    async def create_approval_rule(self, info: Info[Context, None], input: ApprovalRuleInput) -> ApprovalRuleResult:
        return ApprovalRule.of(await rules.create(...))

`query`, `mutation` and `subscription` wrap Strawberry's own decorators. Each records the scopes
its field needs (jit.auth.scopes.Scope); the fail-closed scope map (`required_scopes`, read by
jit.graphql.security.ScopeGuard) is built from those declarations only, so a root field declared
any other way is refused for every caller. With `errors=`, a DomainError raised anywhere in the
resolver becomes the schema's typed error result (`to_error`, or `to_input_error` for mutations
whose camelCase input the services name in snake_case).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from jit import errors
from jit.auth.scopes import ALL_SCOPES, Scope
from jit.graphql.errors import to_error, to_input_error


class ErrorNames(Enum):
    OUTPUT = "output"  # the error's field is already the schema's name
    INPUT = "input"  # the services' snake_case paths, shown as the input's camelCase ones


OUTPUT = ErrorNames.OUTPUT
INPUT = ErrorNames.INPUT

_SCOPES: dict[str, dict[str, frozenset[Scope]]] = {"Query": {}, "Mutation": {}, "Subscription": {}}


class DomainErrorResult(FieldExtension):
    """Turns a DomainError raised by the resolver into the field's typed error result."""

    def __init__(self, names: ErrorNames = OUTPUT) -> None:
        super().__init__()
        self.names = names

    def _result(self, exc: errors.DomainError) -> Any:
        return to_input_error(exc) if self.names is INPUT else to_error(exc)

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info[Any, Any], **kwargs: Any) -> Any:
        try:
            return next_(source, info, **kwargs)
        except errors.DomainError as exc:
            return self._result(exc)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info[Any, Any], **kwargs: Any
    ) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except errors.DomainError as exc:
            return self._result(exc)


def _root(operation: str, make: Callable[..., Any]) -> Callable[..., Callable[[Callable[..., Any]], Any]]:
    def declare(
        *scopes: Scope, errors: ErrorNames | None = None, name: str | None = None, **options: Any
    ) -> Callable[[Callable[..., Any]], Any]:
        if not scopes:
            raise TypeError(f"{operation} field declared without a scope")

        def wrap(resolver: Callable[..., Any]) -> Any:
            field_name = name or to_camel_case(resolver.__name__)
            known = _SCOPES[operation].get(field_name)
            if known is not None and known != frozenset(scopes):
                raise TypeError(f"{operation}.{field_name} declared twice with different scopes")
            _SCOPES[operation][field_name] = frozenset(scopes)
            extensions = list(options.pop("extensions", []))
            if errors is not None:
                extensions.append(DomainErrorResult(errors))
            return make(resolver, name=name, extensions=extensions, **options)

        return wrap

    return declare


query = _root("Query", strawberry.field)
mutation = _root("Mutation", strawberry.mutation)
subscription = _root("Subscription", strawberry.subscription)


def required_scopes(operation_type: str, field_name: str) -> frozenset[Scope] | None:
    """The scopes that allow this root field, or None when it is not declared (refuse it)."""
    if field_name == "__typename":
        return frozenset(ALL_SCOPES)
    if operation_type == "Query" and field_name in ("__schema", "__type"):
        return frozenset({Scope.READ})  # only reachable where introspection is enabled
    return _SCOPES.get(operation_type, {}).get(field_name)


def declared_scopes() -> dict[str, dict[str, frozenset[Scope]]]:
    """A copy of the scope map, as the root fields declared it."""
    return {op: dict(fields) for op, fields in _SCOPES.items()}
