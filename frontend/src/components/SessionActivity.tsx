import { useEffect, useState } from "react";
import { useQuery } from "urql";
import Alert from "@cloudscape-design/components/alert";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import Header from "@cloudscape-design/components/header";
import LineChart from "@cloudscape-design/components/line-chart";
import Pagination from "@cloudscape-design/components/pagination";
import SpaceBetween from "@cloudscape-design/components/space-between";
import StatusIndicator from "@cloudscape-design/components/status-indicator";
import Table from "@cloudscape-design/components/table";
import Toggle from "@cloudscape-design/components/toggle";
import { TicketSessionActivityDocument, TicketSessionTimelineDocument } from "../graphql/generated/graphql";
import { activityEmptyState, perMinuteSeries, sourceNotice } from "../lib/activity";
import { isResultError } from "../lib/errors";
import { formatDateTime } from "../lib/time";
import { EmptyState } from "./EmptyState";

const PAGE_SIZE = 25;

function timeTick(d: Date): string {
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

/**
 * What the ticket's principal did in AWS with this ticket (CloudTrail): a calls-per-minute
 * chart across the window and a table paged and filtered on the server.
 */
export function SessionActivity({ ticketId, startAt, endAt }: { ticketId: string; startAt: string; endAt: string }) {
  const [writeOnly, setWriteOnly] = useState(false);
  const [errorsOnly, setErrorsOnly] = useState(false);
  const filter = { writeOnly, errorsOnly };
  const filterKey = JSON.stringify(filter);
  // Cursors belong to one filter: another filter starts again at page 1.
  const [paging, setPaging] = useState<{ key: string; cursors: (string | null)[]; page: number }>({
    key: filterKey,
    cursors: [null],
    page: 1,
  });
  const current = paging.key === filterKey ? paging : { key: filterKey, cursors: [null], page: 1 };
  const { cursors, page } = current;
  const setPage = (n: number) => setPaging({ ...current, page: n });

  const [{ data, fetching, error }, refetch] = useQuery({
    query: TicketSessionActivityDocument,
    variables: { ticketId, first: PAGE_SIZE, after: cursors[page - 1] ?? null, filter },
  });
  const [timeline, refetchTimeline] = useQuery({
    query: TicketSessionTimelineDocument,
    variables: { ticketId, filter },
  });
  const result = data?.ticketSessionActivity;
  const pageData = result?.__typename === "SessionActivityPage" ? result : null;
  useEffect(() => {
    // Only an answer to this filter and page may add the next page's cursor.
    if (fetching || !pageData?.hasNextPage || !pageData.endCursor || cursors.length !== page) return;
    setPaging({ key: filterKey, cursors: [...cursors, pageData.endCursor], page });
  }, [pageData, page, cursors, fetching, filterKey]);
  const reload = () => {
    refetch({ requestPolicy: "network-only" });
    refetchTimeline({ requestPolicy: "network-only" });
  };

  const typedError = result && isResultError(result) ? result : null;
  const header = (
    <Header
      variant="h2"
      description="The API calls made with this ticket's role sessions, from CloudTrail."
      actions={
        <SpaceBetween direction="horizontal" size="s" alignItems="center">
          <Toggle checked={writeOnly} onChange={(e) => setWriteOnly(e.detail.checked)} ariaLabel="Write calls only">
            Write calls only
          </Toggle>
          <Toggle checked={errorsOnly} onChange={(e) => setErrorsOnly(e.detail.checked)} ariaLabel="Errors only">
            Errors only
          </Toggle>
          <Button iconName="refresh" ariaLabel="Refresh session activity" onClick={reload} />
        </SpaceBetween>
      }
    >
      Session activity
    </Header>
  );

  if (typedError || (error && !data)) {
    const state = typedError
      ? activityEmptyState(typedError)
      : { header: "Session activity could not be read", text: error!.message };
    return (
      <Container header={header}>
        <EmptyState {...state} />
      </Container>
    );
  }

  const t = timeline.data?.ticketSessionTimeline;
  const tl = t?.__typename === "SessionTimeline" ? t : null;
  const window = pageData?.window ?? tl?.window ?? null;
  const notice = window ? sourceNotice(window) : null;
  const series = tl ? perMinuteSeries(tl.minutes, tl.window.start, tl.window.end, tl.window.readAt) : null;
  // To the ticket's end, or further while sessions it issued may still be running (up to
  // the window's end, never past the moment the source was read).
  const xEnd = new Date(
    Math.max(
      new Date(endAt).getTime(),
      window ? Math.min(new Date(window.end).getTime(), new Date(window.readAt).getTime()) : 0,
    ),
  );
  const per = series && series.bucketMinutes > 1 ? `${series.bucketMinutes} minutes` : "minute";
  const events = pageData?.events ?? [];

  return (
    <Container header={header}>
      <SpaceBetween size="m">
        {notice && (
          <Alert type={notice.type} header={notice.header}>
            {notice.text}
          </Alert>
        )}
        {!!pageData?.unavailable.length && (
          <Alert type="warning" header="Some accounts could not be read">
            {pageData.unavailable.join("; ")}
          </Alert>
        )}
        {tl?.truncated && <Alert type="info">The chart counts the newest {tl.events} calls only.</Alert>}
        <LineChart
          series={[
            { title: "Calls", type: "line", data: series?.calls ?? [] },
            { title: "Writes", type: "line", data: series?.writes ?? [] },
            { title: "Errors", type: "line", data: series?.errors ?? [] },
            { title: "Ticket starts", type: "threshold", x: new Date(startAt) },
            { title: "Ticket ends", type: "threshold", x: new Date(endAt) },
          ]}
          xDomain={[new Date(window?.start ?? startAt), xEnd]}
          xScaleType="time"
          xTitle="Time"
          yTitle={`Calls per ${per}`}
          height={200}
          statusType={timeline.fetching && !timeline.data ? "loading" : timeline.error ? "error" : "finished"}
          loadingText="Loading the timeline"
          errorText={timeline.error?.message ?? "The timeline could not be read"}
          hideFilter
          ariaLabel={`Calls per ${per}`}
          ariaDescription="API calls made with the ticket's sessions over its window; the ticket's start and end are marked."
          i18nStrings={{ xTickFormatter: timeTick, yTickFormatter: (y: number) => String(y) }}
          empty={
            <EmptyState header="No calls" text="No API call was made with this ticket's sessions in its window." />
          }
          noMatch={<EmptyState header="No calls" text="Nothing matches." />}
        />
        <Table
          variant="embedded"
          items={events}
          trackBy="eventId"
          loading={fetching}
          loadingText="Reading CloudTrail"
          wrapLines
          ariaLabels={{ tableLabel: "Session activity" }}
          columnDefinitions={[
            { id: "time", header: "Time", cell: (e) => formatDateTime(e.eventTime) },
            { id: "account", header: "Account", cell: (e) => e.accountId },
            { id: "region", header: "Region", cell: (e) => e.region },
            { id: "source", header: "Event source", cell: (e) => e.eventSource },
            { id: "name", header: "Event name", cell: (e) => e.eventName },
            {
              id: "kind",
              header: "Read or write",
              cell: (e) =>
                e.readOnly === false ? (
                  <StatusIndicator type="warning">write</StatusIndicator>
                ) : e.readOnly ? (
                  "read"
                ) : (
                  "-"
                ),
            },
            {
              id: "error",
              header: "Error code",
              cell: (e) => (e.errorCode ? <StatusIndicator type="error">{e.errorCode}</StatusIndicator> : "-"),
            },
            { id: "ip", header: "Source IP", cell: (e) => e.sourceIp ?? "-" },
          ]}
          pagination={
            <Pagination
              currentPageIndex={page}
              pagesCount={cursors.length}
              openEnd={!!pageData?.hasNextPage}
              onChange={(e) => setPage(e.detail.currentPageIndex)}
              ariaLabels={{
                nextPageLabel: "Next page of activity",
                previousPageLabel: "Previous page of activity",
                pageLabel: (n) => `Activity page ${n}`,
              }}
            />
          }
          empty={
            <EmptyState
              header="No calls"
              text={
                writeOnly || errorsOnly
                  ? "No call matches these filters."
                  : "No API call was made with this ticket's sessions yet."
              }
            />
          }
        />
      </SpaceBetween>
    </Container>
  );
}
