import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { Provider, type Client } from "urql";
import { fromValue } from "wonka";
import { SessionActivity } from "./SessionActivity";

afterEach(cleanup);

/** A client that answers every query with the same typed error, as the server would. */
function answering(error: { __typename: string; message: string; field: string | null }): Client {
  const data = (query: string) =>
    query.includes("ticketSessionTimeline") ? { ticketSessionTimeline: error } : { ticketSessionActivity: error };
  return {
    executeQuery: (op: { query: { loc?: { source: { body: string } } } }) =>
      fromValue({ operation: op, data: data(op.query.loc?.source.body ?? ""), stale: false, hasNext: false }),
  } as unknown as Client;
}

function renderWith(client: Client) {
  render(
    <Provider value={client}>
      <SessionActivity ticketId="t1" startAt="2026-01-01T10:00:00Z" endAt="2026-01-01T11:00:00Z" />
    </Provider>,
  );
}

describe("SessionActivity empty states", () => {
  it("says the source is not configured, not an error dump", () => {
    renderWith(
      answering({
        __typename: "ValidationError",
        field: "source",
        message: "session activity is not configured: the logs_insights source needs JIT_ACTIVITY_LOG_GROUP",
      }),
    );
    expect(screen.getByText("Session activity is not configured")).toBeTruthy();
    expect(screen.getByText(/JIT_ACTIVITY_LOG_GROUP/)).toBeTruthy();
    expect(screen.queryByRole("table")).toBeNull();
  });

  it("says plainly that the reader may not see it", () => {
    renderWith(answering({ __typename: "NotFoundError", field: "ticketId", message: "ticket t1 not found" }));
    expect(screen.getByText("You may not see this session activity")).toBeTruthy();
    expect(screen.queryByRole("table")).toBeNull();
  });
});
