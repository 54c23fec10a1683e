import { useState } from "react";
import { useQuery } from "urql";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Header from "@cloudscape-design/components/header";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import { TicketsDocument, type TicketSummaryFragment } from "../graphql/generated/graphql";
import { DecisionButtons } from "../components/DecisionButtons";
import { Link } from "../components/Link";
import { TicketStatus } from "../components/TicketStatus";
import { targetsText, userText } from "../components/targets";
import { formatDateTime, formatDuration } from "../lib/time";

export function ApprovalsPage() {
  const [{ data, fetching, error }, refetch] = useQuery({
    query: TicketsDocument,
    variables: { filter: { awaitingMyDecision: true }, first: 100 },
  });
  const [selected, setSelected] = useState<TicketSummaryFragment[]>([]);
  const items = data?.tickets.edges.map((e) => e.node) ?? [];
  const reload = () => {
    setSelected([]);
    refetch({ requestPolicy: "network-only" });
  };
  return (
    <ContentLayout header={<Header variant="h1" description="Tickets waiting for your decision.">Approvals</Header>}>
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
          { id: "status", header: "Status", cell: (t) => <TicketStatus status={t.status} /> },
          { id: "requester", header: "Requester", cell: (t) => userText(t.requester) },
          { id: "principal", header: "For", cell: (t) => userText(t.principal) },
          { id: "targets", header: "Targets", cell: (t) => targetsText(t) },
          { id: "rule", header: "Rule", cell: (t) => [...new Set(t.targets.map((x) => x.ruleName))].join(", ") },
          { id: "justification", header: "Justification", cell: (t) => t.justification || "-" },
          { id: "window", header: "Window", cell: (t) => `${formatDateTime(t.startAt)} for ${formatDuration(t.durationSeconds)}` },
        ]}
      />
    </ContentLayout>
  );
}
