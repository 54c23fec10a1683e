interface TicketLike {
  status: string;
  requester?: { id: string } | null;
  principal?: { id: string } | null;
  steps: { status: string; approverUsers: string[]; approverGroups: string[] }[];
}

interface MeLike {
  user: { id: string; userName: string };
  groups: { displayName: string }[];
}

/** Whether to offer Approve and Reject: the server decides; this only hides what it would refuse. */
export function mayDecide(ticket: TicketLike, me: MeLike): boolean {
  if (ticket.status !== "PENDING_APPROVAL") return false;
  if (ticket.requester?.id === me.user.id || ticket.principal?.id === me.user.id) return false;
  const step = ticket.steps.find((s) => s.status === "PENDING");
  if (!step) return false;
  const groups = new Set(me.groups.map((g) => g.displayName));
  return step.approverUsers.includes(me.user.userName) || step.approverGroups.some((g) => groups.has(g));
}
