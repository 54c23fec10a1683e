"""Posts real GraphQL documents to the app, in process, over HTTP semantics."""

from __future__ import annotations

from typing import Any

import httpx

from jit.app import create_app
from jit.auth.service import create_token


class Api:
    def __init__(self, client: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    async def token(self, rt, user: str) -> str:
        if user not in self.tokens:
            self.tokens[user], _ = await create_token(rt.clock, user, "test")
        return self.tokens[user]

    async def raw(self, query: str, variables: dict | None = None, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)

    async def as_(self, rt, user: str, query: str, **variables: Any) -> dict:
        response = await self.raw(query, variables, await self.token(rt, user))
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body["errors"]
        return body["data"]


def in_process_app(rt):
    """The real Starlette app, wired to the test's runtime instead of its own lifespan."""
    app = create_app(rt.settings, rt.clock)
    app.state.runtime = rt
    return app


REQUEST = """
mutation($input: RequestTicketInput!) {
  requestTicket(input: $input) {
    __typename
    ... on Ticket { id status targets { accountId permissionSetArn ruleName } steps { name required } }
    ... on Error { message field }
    ... on WrongStateError { currentStatus }
  }
}"""

APPROVE = """
mutation($id: ID!, $comment: String!) {
  approveTicket(ticketId: $id, comment: $comment) {
    __typename
    ... on Ticket { id status }
    ... on Error { message field }
    ... on WrongStateError { currentStatus }
  }
}"""

REJECT = APPROVE.replace("approveTicket", "rejectTicket")
CANCEL = """
mutation($id: ID!) { cancelTicket(ticketId: $id) { __typename ... on Ticket { id status } ... on Error { message field } } }"""
REVOKE = CANCEL.replace("cancelTicket", "revokeTicket")

TICKET = """
query($id: ID!) {
  ticket(id: $id) {
    id status endReason durationSeconds justification
    requester { userName } principal { userName }
    targets { accountId permissionSetArn ruleName account { name } permissionSet { name } }
    steps { position name required approvals status }
    decisions { outcome comment decider { userName } }
    resourceStack { position accountId status requestId origin unwindStatus unwindRequestId }
    history { action fromStatus toStatus actor { userName } }
  }
}"""
