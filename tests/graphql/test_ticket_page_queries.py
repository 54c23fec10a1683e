"""A page of tickets costs a fixed number of SQL queries, however many tickets it holds.

The queries are counted where Tortoise sends them to PostgreSQL (its db client logs each one),
on the real app and the real database.
"""

from __future__ import annotations

import logging

from jit.tickets import stack
from tests.graphql.client import Api

PAGE = """
query($first: Int!) {
  tickets(first: $first) {
    edges { node {
      id status durationSeconds needsBreakGlassReview
      requester { userName } principal { userName }
      targets { accountId permissionSetArn ruleName account { name } permissionSet { name } }
      steps { position name required approvals status approverUsers }
      decisions { outcome comment stepPosition decider { userName } onBehalfOf { userName } }
      extensions { id status requester { userName } decisions { outcome stepPosition decider { userName } } }
      breakGlassReview { comment }
      resourceStack { position accountId status }
      warnings
      history { action toStatus actor { userName } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


APPROVE = 'mutation($id: ID!) { approveTicket(ticketId: $id, comment: "ok") { __typename } }'
EXTEND = """mutation($id: ID!) { requestExtension(ticketId: $id, additionalDurationSeconds: 600, reason: "more") {
  __typename ... on Extension { id } } }"""
APPROVE_EXTENSION = 'mutation($id: ID!) { approveExtension(extensionId: $id, comment: "ok") { __typename } }'


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.queries: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith(("Created connection pool", "Closed connection pool")):
            self.queries.append(message)


async def _queries_for_a_page(api: Api, rt, first: int) -> tuple[int, int]:
    logger = logging.getLogger("tortoise.db_client")
    counter, level = _Count(), logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        data = await api.as_(rt, "admin", PAGE, first=first)
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
    nodes = [e["node"] for e in data["tickets"]["edges"]]
    # The parts are there to be read, so a per-ticket query would show in the count.
    assert any(n["resourceStack"] for n in nodes) and all(n["history"] for n in nodes)
    assert any(x["decisions"] for n in nodes for x in n["extensions"])
    return len(data["tickets"]["edges"]), len(counter.queries)


async def test_a_page_of_tickets_costs_the_same_queries_for_10_and_for_50(api, demo):
    rt = demo.rt
    for i in range(50):
        targets = [("payments-prod", "ReadOnlyAccess")] + ([("sandbox-alice", "ReadOnlyAccess")] if i % 2 else [])
        ticket = await demo.request("alice", targets)
        if i % 5 == 0:
            # Approved, granted (a resource stack), extended with a decision: every part a page reads.
            await api.as_(rt, "bob", APPROVE, id=str(ticket.id))
            assert (await stack.grant(rt, str(ticket.id))).result == "granted"
            extension = (await api.as_(rt, "alice", EXTEND, id=str(ticket.id)))["requestExtension"]
            await api.as_(rt, "bob", APPROVE_EXTENSION, id=extension["id"])
    await api.as_(rt, "admin", PAGE, first=1)  # the token, the policy and the directory are read once and kept

    ten, queries_10 = await _queries_for_a_page(api, rt, 10)
    fifty, queries_50 = await _queries_for_a_page(api, rt, 50)
    assert (ten, fifty) == (10, 50)
    print(f"queries for a page of 10 tickets: {queries_10}; of 50: {queries_50}")
    # Each kind of row is one query per page. The user loader may read in one wave or two (the
    # requesters at once, the deciders when the decisions arrive), so a page costs 14 or 15. Before
    # the dataloaders, a page of 50 cost 257 without the resource stack, warnings, history and
    # extension decisions; with them and only the first loaders, 10 -> 63 and 50 -> 271.
    assert queries_50 <= 15 and queries_10 <= 15, (queries_10, queries_50)
    assert abs(queries_50 - queries_10) <= 1, (queries_10, queries_50)
