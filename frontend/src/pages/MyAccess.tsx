import { useCallback, useMemo, useState } from "react";
import { useNavigate } from "react-router-dom";
import { useQuery } from "urql";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Header from "@cloudscape-design/components/header";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import { TicketsDocument, type TicketDetailFragment, type TicketSummaryFragment } from "../graphql/generated/graphql";
import { useMe } from "../app/me";
import { LIVE_STATUSES } from "../lib/status";
import { formatDateTime } from "../lib/time";
import { TicketStatus } from "../components/TicketStatus";
import { Countdown } from "../components/Countdown";
import { LiveTicket, newer } from "../components/LiveTicket";
import { TicketActions } from "../components/TicketActions";
import { ExtendButton } from "../components/Extensions";
import { Link } from "../components/Link";
import { targetsText } from "../components/targets";

export function MyAccessPage() {
  const me = useMe();
  const navigate = useNavigate();
  const [{ data, fetching, error }, refetch] = useQuery({
    query: TicketsDocument,
    variables: { filter: { principalId: me.user.id, status: LIVE_STATUSES }, first: 100 },
  });
  // Versions pushed over the websocket win over what the list query returned.
  const [live, setLive] = useState<Record<string, TicketDetailFragment>>({});
  const onUpdate = useCallback((t: TicketDetailFragment) => setLive((known) => newer(known, t)), []);
  const rows: TicketSummaryFragment[] = useMemo(() => {
    const listed = (data?.tickets.edges ?? []).map((e) => {
      const l = live[e.node.id];
      return l && l.version >= e.node.version ? l : e.node;
    });
    // A ticket that ended while this page was open stays in view until reload, so
    // its owner sees it end rather than vanish.
    const ids = new Set(listed.map((t) => t.id));
    const endedHere = Object.values(live).filter((t) => !ids.has(t.id));
    return [...listed, ...endedHere];
  }, [data, live]);

  return (
    <ContentLayout
      header={
        <Header variant="h1" description="Your live and scheduled access. Statuses update as they change.">
          My access
        </Header>
      }
    >
      {rows.map((t) => (
        <LiveTicket key={t.id} id={t.id} onUpdate={onUpdate} />
      ))}
      <Table
        variant="container"
        loading={fetching && !data}
        loadingText="Loading tickets"
        items={rows}
        trackBy="id"
        wrapLines
        stickyColumns={{ first: 0, last: 1 }}
        ariaLabels={{ tableLabel: "My tickets" }}
        header={
          <Header
            counter={`(${rows.length})`}
            actions={
              <SpaceBetween direction="horizontal" size="xs">
                <Button
                  iconName="refresh"
                  ariaLabel="Refresh"
                  onClick={() => refetch({ requestPolicy: "network-only" })}
                />
                <Button variant="primary" onClick={() => navigate("/request")}>
                  Request access
                </Button>
              </SpaceBetween>
            }
          >
            Tickets
          </Header>
        }
        empty={
          <Box textAlign="center" color="inherit">
            <b>No live access</b>
            <Box variant="p" color="inherit">
              {error ? error.message : "You have no live or scheduled tickets."}
            </Box>
            <Button onClick={() => navigate("/request")}>Request access</Button>
          </Box>
        }
        columnDefinitions={[
          { id: "id", header: "Ticket", cell: (t) => <Link href={`/tickets/${t.id}`}>{t.id.slice(0, 8)}</Link> },
          {
            id: "status",
            header: "Status",
            minWidth: 150,
            cell: (t) => <TicketStatus status={t.status} endReason={t.endReason} />,
          },
          { id: "targets", header: "Targets", cell: (t) => targetsText(t) },
          { id: "start", header: "Starts", cell: (t) => formatDateTime(t.startAt) },
          { id: "end", header: "Ends", cell: (t) => formatDateTime(t.endAt) },
          {
            id: "remaining",
            header: "Remaining",
            cell: (t) => (LIVE_STATUSES.includes(t.status) ? <Countdown startAt={t.startAt} endAt={t.endAt} /> : "-"),
          },
          {
            id: "actions",
            header: "Actions",
            cell: (t) => (
              <SpaceBetween direction="horizontal" size="xs">
                <ExtendButton id={t.id} status={t.status} variant="inline-link" />
                <TicketActions id={t.id} status={t.status} variant="inline-link" />
              </SpaceBetween>
            ),
          },
        ]}
      />
    </ContentLayout>
  );
}
