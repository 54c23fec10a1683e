import { cacheExchange, Client, fetchExchange, mapExchange, subscriptionExchange } from "urql";
import { createClient as createWsClient } from "graphql-ws";
import { authHeaders, connectionParams, forgetSession } from "../auth/session";

export function graphqlUrl(): string {
  return `${window.location.origin}/graphql`;
}

function websocketUrl(): string {
  return graphqlUrl().replace(/^http/, "ws");
}

/** A client per sign-in: the websocket carries the token in connection_init, so a new token needs a new socket. */
export function makeClient(onUnauthenticated: () => void): Client {
  const ws = createWsClient({
    url: websocketUrl(),
    connectionParams,
    lazy: true,
    // Keep live pages live across API restarts, but not when the token was refused.
    retryAttempts: Infinity,
    shouldRetry: (e) => !(e && typeof e === "object" && "code" in e && (e.code === 4401 || e.code === 4403)),
  });
  return new Client({
    url: graphqlUrl(),
    // The API takes POST only (GET would put queries in logs and caches).
    preferGetMethod: false,
    // Tickets change underneath us (the worker moves them): ask the server, then cache.
    requestPolicy: "cache-and-network",
    // The session cookie goes with every same-origin request; the header proves it is ours.
    fetchOptions: () => ({ headers: authHeaders(), credentials: "same-origin" }),
    exchanges: [
      mapExchange({
        onError(error) {
          if (error.response?.status === 401 || error.response?.status === 403) {
            forgetSession();
            onUnauthenticated();
          }
        },
      }),
      cacheExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || "" };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
      fetchExchange,
    ],
  });
}
