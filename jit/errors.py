"""Domain errors. Services raise these; the GraphQL layer maps them to typed results.

No HTTP or GraphQL types here.
"""

from __future__ import annotations


class DomainError(Exception):
    """An expected failure whose message is safe to show to the caller."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    """Input is malformed or breaks a rule; names the offending field."""


class NotFound(DomainError):
    pass


class NotAllowed(DomainError):
    pass


class WrongState(DomainError):
    """The thing exists but is not in a state that allows this action."""

    def __init__(self, message: str, current: str | None = None, field: str | None = None) -> None:
        super().__init__(message, field)
        self.current = current


class Unauthenticated(DomainError):
    """Its message is for the log; callers are told PUBLIC_MESSAGE, whatever the reason."""

    PUBLIC_MESSAGE = "authentication required: send a valid API token, or sign in"
