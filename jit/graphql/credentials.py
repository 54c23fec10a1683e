"""Sets the acting credential (jit.auth.acting) around each operation, so the audit log and
the decision services know which token or session acted."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from jit.auth import acting


class ActingCredential(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        identity = getattr(self.execution_context.context, "identity", None)
        with acting.acting_as(identity):
            yield
