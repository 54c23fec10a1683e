"""How big an operation is, measured before it runs: depth, aliases and cost, in one pass.

A document can spread a fragment that spreads another twice, and so on: 843 bytes of
`fragment F21 { ...F20 ...F20 }` expand to two million fields. A walker that follows every
spread (Strawberry's QueryDepthLimiter and MaxAliasesLimiter did) does that much work
before refusing anything. This one measures each fragment once and reuses the figures at
every spread, so its work grows with the document's size, never with its expansion.

Cost follows GitHub's GraphQL API: every field is one node, multiplied by the size of each
list around it. A connection's `first`/`last` (given, or its default) sizes the lists just
inside it (`edges`, `nodes`); any other list of objects counts as
JIT_GRAPHQL_COST_LIST_SIZE items. Scalars and lists of scalars are one node each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
)
from graphql.language import BREAK

# Past this, a figure is "too much" whatever the budget; keeps the arithmetic small.
_CAP = 10**12
_PAGE_ARGUMENTS = ("first", "last")
# The largest page any connection serves (audit events, 500). A larger `first` is counted as
# this much: its resolver refuses it with a typed error on the field, which says more than
# a cost refusal would.
_LARGEST_PAGE = 500


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_cost: int
    list_size: int


@dataclass(frozen=True)
class Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0

    def __add__(self, other: Measure) -> Measure:
        return Measure(max(self.depth, other.depth), min(_CAP, self.aliases + other.aliases),
                       min(_CAP, self.cost + other.cost))


_NOTHING = Measure()


class _Walker:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode],
                 variables: dict[str, Any], limits: Limits) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.limits = limits
        # Keyed by the page size a spread inherits from a connection above it: the same
        # fragment under `tickets(first: 100)` costs more than under `tickets(first: 1)`.
        self.memo: dict[tuple[str, int | None], Measure] = {}
        self.active: set[str] = set()

    def selection_set(self, node: SelectionSetNode, parent: GraphQLNamedType | None, page: int | None) -> Measure:
        total = _NOTHING
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total = total + self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total = total + self.selection_set(selection.selection_set, inner, page)
            elif isinstance(selection, FragmentSpreadNode):
                total = total + self.fragment(selection.name.value, page)
        return total

    def fragment(self, name: str, page: int | None) -> Measure:
        key = (name, page)
        if key in self.memo:
            return self.memo[key]
        definition = self.fragments.get(name)
        if definition is None or name in self.active:
            return _NOTHING  # unknown fragments and cycles are refused by the standard rules
        self.active.add(name)
        try:
            found = self.selection_set(definition.selection_set, self.schema.get_type(definition.type_condition.name.value),
                                       page)
        finally:
            self.active.discard(name)
        self.memo[key] = found
        return found

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, page: int | None) -> Measure:
        aliases = 1 if node.alias else 0
        if node.selection_set is None or node.name.value.startswith("__"):
            return Measure(0, aliases, 1)
        definition = None
        if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            definition = parent.fields.get(node.name.value)
        if definition is None:  # an unknown field: refused by the standard rules after this
            inner = self.selection_set(node.selection_set, None, None)
            return Measure(1 + inner.depth, min(_CAP, aliases + inner.aliases), min(_CAP, 1 + inner.cost))
        field_type, is_list = definition.type, False
        while isinstance(field_type, (GraphQLNonNull, GraphQLList)):
            is_list = is_list or isinstance(field_type, GraphQLList)
            field_type = field_type.of_type
        size = self.page_size(node, definition)
        if is_list:
            many = size if size is not None else page if page is not None else self.limits.list_size
            inner = self.selection_set(node.selection_set, field_type, None)
        else:
            many = 1
            inner = self.selection_set(node.selection_set, field_type, size)
        return Measure(1 + inner.depth, min(_CAP, aliases + inner.aliases), min(_CAP, 1 + many * inner.cost))

    def page_size(self, node: FieldNode, definition: Any) -> int | None:
        for name in _PAGE_ARGUMENTS:
            if name not in definition.args:
                continue
            value: Any = definition.args[name].default_value
            for argument in node.arguments or ():
                if argument.name.value != name:
                    continue
                if isinstance(argument.value, IntValueNode):
                    value = int(argument.value.value)
                elif isinstance(argument.value, VariableNode):
                    value = self.variables.get(argument.value.name.value, value)
            if isinstance(value, int) and not isinstance(value, bool):
                return max(0, min(value, _LARGEST_PAGE))
        return None


def measure(schema: GraphQLSchema, document: Any, variables: dict[str, Any] | None,
            limits: Limits) -> dict[OperationDefinitionNode, Measure]:
    """Each operation's depth, aliases and cost; every fragment is walked once per page size."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walker = _Walker(schema, fragments, variables if isinstance(variables, dict) else {}, limits)
    found = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            root = schema.get_root_type(definition.operation)
            found[definition] = walker.selection_set(definition.selection_set, root, None)
    return found


def _too_complex(message: str, node: OperationDefinitionNode, limit: str, value: int, allowed: int) -> GraphQLError:
    return GraphQLError(message, [node], extensions={
        "code": "QUERY_TOO_COMPLEX", "limit": limit, "value": value, "allowed": allowed})


def check(schema: GraphQLSchema, document: Any, variables: dict[str, Any] | None, limits: Limits) -> list[GraphQLError]:
    """The errors of every operation beyond the limits; none when all are within them."""
    errors = []
    for operation, m in measure(schema, document, variables, limits).items():
        name = operation.name.value if operation.name else "anonymous"
        if m.depth > limits.max_depth:
            errors.append(_too_complex(f"'{name}' exceeds maximum operation depth of {limits.max_depth}",
                                       operation, "depth", m.depth, limits.max_depth))
        if m.aliases > limits.max_aliases:
            errors.append(_too_complex(f"{m.aliases} aliases found. Allowed: {limits.max_aliases}",
                                       operation, "aliases", m.aliases, limits.max_aliases))
        if m.cost > limits.max_cost:
            shown = f"{m.cost}" if m.cost < _CAP else f"over {_CAP}"
            errors.append(_too_complex(
                f"'{name}' would cost {shown} nodes; the limit is {limits.max_cost} (ask for fewer items "
                "with first/last, or fewer fields)", operation, "cost", m.cost, limits.max_cost))
    return errors


def limits_rule(limits: Limits, variables: dict[str, Any] | None) -> type[ValidationRule]:
    """The same check as a graphql-core validation rule (a class per request: cost depends on
    the variables, and graphql-core builds rules from the context alone).

    jit.graphql.security.DocumentGuard calls `check` directly instead: graphql-core's
    `validate` walks the whole document with type information even after every rule has
    returned BREAK, which costs more than the check itself."""

    class DocumentLimitsRule(ValidationRule):
        def enter_document(self, node: Any, *_args: Any) -> Any:
            ctx: ValidationContext = self.context
            for error in check(ctx.schema, node, variables, limits):
                self.report_error(error)
            return BREAK  # the whole document was measured above

    return DocumentLimitsRule
