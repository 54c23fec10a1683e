"""Expected failures are logged as one INFO line with their code; only the unexpected are
logged at ERROR with a traceback."""

from __future__ import annotations

import logging

from graphql import GraphQLError

from jit.errors import NotFound
from jit.graphql.schema import build_schema


def _graphql_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name in ("jit.graphql.schema", "strawberry.execution")]


async def test_expected_errors_are_one_info_line_with_their_code(api, demo, caplog):
    caplog.set_level(logging.INFO)
    token = await api.token(demo.rt, "alice")
    await api.raw("{ requestableAccounts(ouId: \"nonsense\", first: 5) { totalCount } }", None, token)  # NOT_FOUND
    await api.raw("{ requestableAccounts(first: 0) { totalCount } }", None, token)  # a resolver's ValueError
    await api.raw("{ noSuchField }", None, token)  # validation
    records = _graphql_records(caplog)
    assert len(records) == 3, [r.getMessage() for r in records]
    assert all(r.levelno == logging.INFO and r.exc_info is None for r in records)
    messages = [r.getMessage() for r in records]
    assert messages[0].startswith("graphql: NOT_FOUND in anonymous at requestableAccounts: unknown organizational unit")
    assert messages[1].startswith("graphql: BAD_USER_INPUT in anonymous at requestableAccounts: first must be")
    assert "GRAPHQL_VALIDATION_FAILED" in messages[2]
    assert all("\n" not in m for m in messages)


def test_domain_errors_are_expected_and_anything_else_is_an_error_with_its_traceback(demo, caplog):
    schema = build_schema(demo.rt.settings)
    caplog.set_level(logging.INFO)
    try:
        raise RuntimeError("the database fell over")
    except RuntimeError as exc:
        unexpected = GraphQLError("boom", original_error=exc, path=["tickets"])
    schema.process_errors([GraphQLError("gone", original_error=NotFound("ticket x not found"), path=["ticket"]),
                           unexpected])
    records = _graphql_records(caplog)
    assert [(r.levelno, r.getMessage()) for r in records][0] == (logging.INFO,
                                                                 "graphql: NotFound in anonymous at ticket: gone")
    assert records[1].levelno == logging.ERROR and records[1].exc_info is not None
