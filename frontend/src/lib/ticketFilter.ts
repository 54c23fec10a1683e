import type { TicketFilter, TicketStatus } from "../graphql/generated/graphql";
import { TICKET_STATUSES } from "./status";

export interface FilterToken {
  propertyKey?: string;
  operator: string;
  value: string;
}

export interface Lookup {
  /** userName -> user id */
  users: Record<string, string>;
  /** account name -> account id */
  accounts: Record<string, string>;
}

/**
 * Turn the Tickets table's property-filter tokens into the server's TicketFilter.
 * Several status tokens mean any of them; the server takes one account, principal and
 * requester, so a second token for those replaces the first. Unknown names give an
 * error instead of silently matching everything.
 */
export function tokensToFilter(tokens: FilterToken[], lookup: Lookup): { filter: TicketFilter; error: string | null } {
  const filter: TicketFilter = {};
  const statuses: TicketStatus[] = [];
  for (const t of tokens) {
    const value = t.value.trim();
    switch (t.propertyKey) {
      case "status": {
        const s = value.toUpperCase().replace(/ /g, "_") as TicketStatus;
        if (!TICKET_STATUSES.includes(s)) return { filter, error: `Unknown status ${value}` };
        statuses.push(s);
        break;
      }
      case "account": {
        const id = /^\d{12}$/.test(value) ? value : lookup.accounts[value];
        if (!id) return { filter, error: `Unknown account ${value}` };
        filter.accountId = id;
        break;
      }
      case "principal":
      case "requester": {
        const id = lookup.users[value];
        if (!id) return { filter, error: `Unknown user ${value}` };
        if (t.propertyKey === "principal") filter.principalId = id;
        else filter.requesterId = id;
        break;
      }
      default:
        return { filter, error: "Choose a property (status, account, principal or requester) to filter on." };
    }
  }
  if (statuses.length) filter.status = statuses;
  return { filter, error: null };
}

export type TimeField = "created" | "start";

export type TimeRange =
  | { type: "absolute"; startDate: string; endDate: string }
  | { type: "relative"; amount: number; unit: "second" | "minute" | "hour" | "day" | "week" | "month" | "year" };

const UNIT_MS = {
  second: 1e3,
  minute: 6e4,
  hour: 36e5,
  day: 864e5,
  week: 6048e5,
  month: 30 * 864e5,
  year: 365 * 864e5,
};

/**
 * A date range picker's value as TicketFilter bounds on created or start time. A
 * relative range ("last 7 days") ends now; an absolute one is sent as chosen.
 */
export function rangeToFilter(field: TimeField, range: TimeRange | null, now: Date): Partial<TicketFilter> {
  if (!range) return {};
  let from: string;
  let to: string;
  if (range.type === "relative") {
    from = new Date(now.getTime() - range.amount * UNIT_MS[range.unit]).toISOString();
    to = now.toISOString();
  } else {
    const a = new Date(range.startDate);
    const b = new Date(range.endDate);
    if (Number.isNaN(a.getTime()) || Number.isNaN(b.getTime())) return {};
    from = a.toISOString();
    to = b.toISOString();
  }
  return field === "created" ? { createdAfter: from, createdBefore: to } : { startAfter: from, startBefore: to };
}
