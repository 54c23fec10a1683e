import { useState } from "react";
import { useQuery } from "urql";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Header from "@cloudscape-design/components/header";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import {
  ApprovalInboxDocument,
  TicketsWithExtensionsDocument,
  type ApprovalInboxQuery,
} from "../graphql/generated/graphql";
import { ExtensionDecision, ReviewBreakGlassButton } from "../components/Extensions";
import { useMe } from "../app/me";
import { DecisionButtons } from "../components/DecisionButtons";
import { Link } from "../components/Link";
import { TicketStatus } from "../components/TicketStatus";
import { targetsText, userText } from "../components/targets";
import { formatDateTime, formatDuration } from "../lib/time";
import { byDeadline, deadlineState, stepNeeds, waitedText } from "../lib/inbox";
import StatusIndicator from "@cloudscape-design/components/status-indicator";

type InboxTicket = ApprovalInboxQuery["tickets"]["edges"][number]["node"];

export function ApprovalsPage() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: ApprovalInboxDocument, variables: { first: 100 } });
  const [selected, setSelected] = useState<InboxTicket[]>([]);
  const [descending, setDescending] = useState(false);
  const now = new Date();
  // Sorted by the approval deadline: what expires first comes first.
  const sorted = [...(data?.tickets.edges.map((e) => e.node) ?? [])].sort(byDeadline);
  const items = descending ? sorted.reverse() : sorted;
  const reload = () => {
    setSelected([]);
    refetch({ requestPolicy: "network-only" });
  };
  return (
    <ContentLayout
      header={
        <Header variant="h1" description="Tickets, extensions and break-glass access waiting for you.">
          Approvals
        </Header>
      }
    >
      <SpaceBetween size="l">
        <Table
          variant="container"
          items={items}
          trackBy="id"
          loading={fetching && !data}
          loadingText="Loading tickets"
          selectionType="multi"
          selectedItems={selected}
          onSelectionChange={(e) => setSelected(e.detail.selectedItems)}
          ariaLabels={{
            tableLabel: "Tickets awaiting my decision",
            selectionGroupLabel: "Ticket selection",
            allItemsSelectionLabel: () => "Select all tickets",
            itemSelectionLabel: (_, t) => `Select ticket ${t.id.slice(0, 8)}`,
          }}
          wrapLines
          sortingColumn={{ sortingField: "deadline" }}
          sortingDescending={descending}
          onSortingChange={(e) => setDescending(e.detail.isDescending ?? false)}
          header={
            <Header
              counter={selected.length ? `(${selected.length}/${items.length})` : `(${items.length})`}
              actions={
                <SpaceBetween direction="horizontal" size="xs">
                  <Button iconName="refresh" ariaLabel="Refresh" onClick={reload} />
                  <DecisionButtons tickets={selected} onDone={reload} />
                </SpaceBetween>
              }
            >
              Awaiting my decision
            </Header>
          }
          empty={
            <Box textAlign="center" color="inherit">
              <b>Nothing to decide</b>
              <Box variant="p" color="inherit">
                {error ? error.message : "No ticket is waiting for you."}
              </Box>
            </Box>
          }
          columnDefinitions={[
            { id: "id", header: "Ticket", cell: (t) => <Link href={`/tickets/${t.id}`}>{t.id.slice(0, 8)}</Link> },
            {
              id: "deadline",
              header: "Approval deadline",
              sortingField: "deadline",
              minWidth: 200,
              cell: (t) => {
                const d = deadlineState(t.approvalExpiresAt, now);
                return (
                  <StatusIndicator type={d.level}>
                    {d.text}
                    {t.approvalExpiresAt ? ` (${formatDateTime(t.approvalExpiresAt)})` : ""}
                  </StatusIndicator>
                );
              },
            },
            { id: "waited", header: "Waiting for", minWidth: 110, cell: (t) => waitedText(t.createdAt, now) },
            {
              id: "needs",
              header: "Still needs",
              minWidth: 320,
              cell: (t) => (
                <SpaceBetween size="xxxs">
                  {stepNeeds(t.steps).map((line) => (
                    <span key={line}>{line}</span>
                  ))}
                </SpaceBetween>
              ),
            },
            { id: "requester", header: "Requester", cell: (t) => userText(t.requester) },
            { id: "principal", header: "For", cell: (t) => userText(t.principal) },
            { id: "targets", header: "Targets", cell: (t) => targetsText(t) },
            { id: "rule", header: "Rule", cell: (t) => [...new Set(t.targets.map((x) => x.ruleName))].join(", ") },
            { id: "justification", header: "Justification", cell: (t) => t.justification || "-" },
            {
              id: "window",
              header: "Window",
              cell: (t) => `${formatDateTime(t.startAt)} for ${formatDuration(t.durationSeconds)}`,
            },
          ]}
        />
        <PendingExtensions />
        <BreakGlassToReview />
      </SpaceBetween>
    </ContentLayout>
  );
}

/** Pending extensions of tickets the caller may read and did not ask for; the server decides who may decide. */
// 50, not 100: a page of tickets with their extensions must stay under the server's query
// cost limit (JIT_MAX_QUERY_COST); 100 exceeded it and the tables showed the refusal.
function PendingExtensions() {
  const [{ data, fetching, error }, refetch] = useQuery({
    query: TicketsWithExtensionsDocument,
    variables: { filter: { extensionPending: true }, first: 50 },
  });
  const rows = (data?.tickets.edges ?? []).flatMap((e) =>
    e.node.extensions.filter((x) => x.status === "PENDING").map((x) => ({ ticket: e.node, ext: x })),
  );
  const reload = () => refetch({ requestPolicy: "network-only" });
  return (
    <Table
      variant="container"
      items={rows}
      trackBy={(r) => r.ext.id}
      loading={fetching && !data}
      loadingText="Loading extensions"
      wrapLines
      ariaLabels={{ tableLabel: "Extensions awaiting a decision" }}
      header={
        <Header
          counter={`(${rows.length})`}
          actions={<Button iconName="refresh" ariaLabel="Refresh extensions" onClick={reload} />}
        >
          Extensions awaiting a decision
        </Header>
      }
      empty={
        <Box textAlign="center" color="inherit">
          {error ? error.message : "No extension is waiting."}
        </Box>
      }
      columnDefinitions={[
        {
          id: "id",
          header: "Ticket",
          cell: (r) => <Link href={`/tickets/${r.ticket.id}`}>{r.ticket.id.slice(0, 8)}</Link>,
        },
        { id: "requester", header: "Requester", cell: (r) => userText(r.ext.requester) },
        { id: "targets", header: "Targets", cell: (r) => targetsText(r.ticket) },
        { id: "more", header: "Additional time", cell: (r) => formatDuration(r.ext.additionalDurationSeconds) },
        { id: "end", header: "Ends now", cell: (r) => formatDateTime(r.ext.previousEndAt) },
        { id: "reason", header: "Reason", cell: (r) => r.ext.reason },
        {
          id: "actions",
          header: "Decision",
          cell: (r) => <ExtensionDecision extensionId={r.ext.id} onDone={reload} />,
        },
      ]}
    />
  );
}

function BreakGlassToReview() {
  const [{ data, fetching, error }, refetch] = useQuery({
    query: TicketsWithExtensionsDocument,
    variables: { filter: { breakGlassUnreviewed: true }, first: 50 },
  });
  const me = useMe();
  // Nobody reviews their own break-glass access (the server refuses it too).
  const items = (data?.tickets.edges ?? [])
    .map((e) => e.node)
    .filter((t) => t.requester?.id !== me.user.id && t.principal?.id !== me.user.id);
  const reload = () => refetch({ requestPolicy: "network-only" });
  return (
    <Table
      variant="container"
      items={items}
      trackBy="id"
      loading={fetching && !data}
      loadingText="Loading break-glass tickets"
      wrapLines
      ariaLabels={{ tableLabel: "Break-glass tickets to review" }}
      header={
        <Header
          counter={`(${items.length})`}
          description="Access the requester approved themself; an approver of its rules reviews it afterwards."
          actions={<Button iconName="refresh" ariaLabel="Refresh break-glass tickets" onClick={reload} />}
        >
          Break-glass to review
        </Header>
      }
      empty={
        <Box textAlign="center" color="inherit">
          {error ? error.message : "No break-glass ticket is waiting for review."}
        </Box>
      }
      columnDefinitions={[
        { id: "id", header: "Ticket", cell: (t) => <Link href={`/tickets/${t.id}`}>{t.id.slice(0, 8)}</Link> },
        { id: "status", header: "Status", cell: (t) => <TicketStatus status={t.status} endReason={t.endReason} /> },
        { id: "requester", header: "Requester", cell: (t) => userText(t.requester) },
        { id: "targets", header: "Targets", cell: (t) => targetsText(t) },
        { id: "reason", header: "Reason", cell: (t) => t.breakGlassReason || "-" },
        { id: "when", header: "Requested", cell: (t) => formatDateTime(t.createdAt) },
        { id: "actions", header: "Review", cell: (t) => <ReviewBreakGlassButton ticketId={t.id} onDone={reload} /> },
      ]}
    />
  );
}
