"""Expected failures as schema types, and the one mapper from domain errors to them."""

from __future__ import annotations

import strawberry

from jit import errors


@strawberry.interface(description="An expected failure. `field` names the input at fault, if any.")
class Error:
    message: str
    field: str | None


@strawberry.type
class ValidationError(Error):
    pass


@strawberry.type
class NotAllowedError(Error):
    pass


@strawberry.type
class NotFoundError(Error):
    pass


@strawberry.type
class WrongStateError(Error):
    current_status: str | None


ErrorTypes = ValidationError | NotAllowedError | NotFoundError | WrongStateError


def input_path(path: str) -> str:
    """A domain field path in the GraphQL input's own names: `scope.organizational_units[0]`
    and pydantic's `steps.0.required` become `scope.organizationalUnits[0]` and
    `steps[0].required`."""
    out: list[str] = []
    for part in path.split("."):
        if part.isdigit() and out:
            out[-1] += f"[{part}]"
            continue
        name, bracket, rest = part.partition("[")
        head, *tail = name.split("_")
        out.append(head + "".join(t[:1].upper() + t[1:] for t in tail) + bracket + rest)
    return ".".join(out)


def to_input_error(exc: errors.DomainError) -> ValidationError | NotAllowedError | NotFoundError | WrongStateError:
    """to_error for mutations whose input is camelCase but whose services speak snake_case."""
    if exc.field:
        original = exc.field
        exc.field = input_path(original)
        exc.message = exc.message.replace(original, exc.field)
    return to_error(exc)


def to_error(exc: errors.DomainError) -> ValidationError | NotAllowedError | NotFoundError | WrongStateError:
    if isinstance(exc, errors.WrongState):
        return WrongStateError(message=exc.message, field=exc.field, current_status=exc.current)
    if isinstance(exc, errors.NotFound):
        return NotFoundError(message=exc.message, field=exc.field)
    if isinstance(exc, (errors.NotAllowed, errors.Unauthenticated)):
        return NotAllowedError(message=exc.message, field=exc.field)
    return ValidationError(message=exc.message, field=exc.field)
