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


def to_error(exc: errors.DomainError) -> ValidationError | NotAllowedError | NotFoundError | WrongStateError:
    if isinstance(exc, errors.WrongState):
        return WrongStateError(message=exc.message, field=exc.field, current_status=exc.current)
    if isinstance(exc, errors.NotFound):
        return NotFoundError(message=exc.message, field=exc.field)
    if isinstance(exc, (errors.NotAllowed, errors.Unauthenticated)):
        return NotAllowedError(message=exc.message, field=exc.field)
    return ValidationError(message=exc.message, field=exc.field)
