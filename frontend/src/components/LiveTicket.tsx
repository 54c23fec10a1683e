import { useEffect, useEffectEvent } from "react";
import { useSubscription } from "urql";
import { TicketUpdatedDocument, type TicketDetailFragment } from "../graphql/generated/graphql";

/**
 * Subscribes to one ticket over graphql-transport-ws and hands every new version up.
 * Renders nothing: a list mounts one per row, and they share the client's one socket.
 */
export function LiveTicket({ id, onUpdate }: { id: string; onUpdate: (ticket: TicketDetailFragment) => void }) {
  const [result] = useSubscription({ query: TicketUpdatedDocument, variables: { id } });
  const ticket = result.data?.ticketUpdated.ticket;
  const deliver = useEffectEvent(() => {
    if (ticket) onUpdate(ticket);
  });
  // Once per new version or status, not per render.
  useEffect(() => deliver(), [ticket?.version, ticket?.status]);
  return null;
}

/** Keep the newest version of each ticket, by its version counter. */
export function newer<T extends { id: string; version: number }>(known: Record<string, T>, next: T): Record<string, T> {
  const current = known[next.id];
  if (current && current.version >= next.version) return known;
  return { ...known, [next.id]: next };
}
