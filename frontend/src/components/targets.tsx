import type { TicketSummaryFragment } from "../graphql/generated/graphql";

export function targetsText(t: Pick<TicketSummaryFragment, "targets">): string {
  return t.targets
    .map((x) => `${x.account?.name ?? x.accountId} / ${x.permissionSet?.name ?? x.permissionSetArn}`)
    .join(", ");
}

export function userText(u: { userName: string; displayName: string } | null | undefined): string {
  return u ? u.userName : "-";
}
