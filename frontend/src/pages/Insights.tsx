import { useState } from "react";
import { useQuery } from "urql";
import Box from "@cloudscape-design/components/box";
import BarChart from "@cloudscape-design/components/bar-chart";
import ColumnLayout from "@cloudscape-design/components/column-layout";
import Container from "@cloudscape-design/components/container";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Header from "@cloudscape-design/components/header";
import LineChart from "@cloudscape-design/components/line-chart";
import ProgressBar from "@cloudscape-design/components/progress-bar";
import SegmentedControl from "@cloudscape-design/components/segmented-control";
import SpaceBetween from "@cloudscape-design/components/space-between";
import StatusIndicator from "@cloudscape-design/components/status-indicator";
import Table from "@cloudscape-design/components/table";
import { InsightsDocument } from "../graphql/generated/graphql";
import { isResultError } from "../lib/errors";
import { approvalSeries, budgetPercent, hasTickets, latenessText } from "../lib/insights";
import { EmptyState as Empty } from "../components/EmptyState";

function dayTick(d: Date): string {
  return d.toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
}

function Top({ title, items }: { title: string; items: { id: string; name: string; count: number }[] }) {
  return (
    <Table
      variant="container"
      items={items}
      trackBy="id"
      ariaLabels={{ tableLabel: title }}
      header={<Header variant="h2">{title}</Header>}
      empty={<Empty header="Nothing requested" text="No ticket in this range." />}
      columnDefinitions={[
        { id: "name", header: "Name", cell: (c) => c.name },
        { id: "count", header: "Targets requested", cell: (c) => c.count },
      ]}
    />
  );
}

export function InsightsPage() {
  const [days, setDays] = useState("30");
  const [{ data, fetching, error }] = useQuery({ query: InsightsDocument, variables: { days: Number(days) } });
  const result = data?.insights;
  const insights = result?.__typename === "Insights" ? result : null;
  const typed = result && isResultError(result) ? result : null;
  const header = (
    <Header
      variant="h1"
      description={
        insights && !insights.everyone
          ? "Your own tickets (admins and auditors see everyone's)."
          : "Every ticket, aggregated on the server."
      }
      actions={
        <SegmentedControl
          selectedId={days}
          onChange={(e) => setDays(e.detail.selectedId)}
          label="Range"
          options={[
            { id: "7", text: "7 days" },
            { id: "30", text: "30 days" },
            { id: "90", text: "90 days" },
          ]}
        />
      }
    >
      Insights
    </Header>
  );
  if (!insights) {
    return (
      <ContentLayout header={header}>
        <Container>
          {fetching ? (
            <StatusIndicator type="loading">Loading</StatusIndicator>
          ) : (
            <Empty
              header="Insights could not be read"
              text={typed?.message ?? error?.message ?? "No answer from the server."}
            />
          )}
        </Container>
      </ContentLayout>
    );
  }

  const empty = !hasTickets(insights);
  const approvals = approvalSeries(insights.approvalTimes);
  const lateness = latenessText(insights.revokeLateness);
  const budget = insights.awsBudget;
  return (
    <ContentLayout header={header}>
      <SpaceBetween size="l">
        {empty && (
          <Container>
            <Empty header="No tickets in this range" text="Once access is requested, its numbers show here." />
          </Container>
        )}
        <Container
          header={
            <Header variant="h2" description="Granted tickets whose window overlaps each day (UTC).">
              Active grants
            </Header>
          }
        >
          <LineChart
            series={[
              {
                title: "Active grants",
                type: "line",
                data: insights.activeGrants.map((d) => ({ x: new Date(d.day), y: d.count })),
              },
            ]}
            xScaleType="time"
            xTitle="Day"
            yTitle="Tickets"
            height={220}
            hideFilter
            ariaLabel="Active grants per day"
            i18nStrings={{ xTickFormatter: dayTick }}
            empty={<Empty header="No grants" text="No access was granted in this range." />}
            noMatch={<Empty header="No grants" text="Nothing matches." />}
          />
        </Container>
        <Container
          header={
            <Header
              variant="h2"
              description="From the request to the rule's last approval; auto-approved rules have none."
            >
              Approval time per rule
            </Header>
          }
        >
          <BarChart
            series={[
              { title: "p50 (minutes)", type: "bar", data: approvals.p50 },
              { title: "p95 (minutes)", type: "bar", data: approvals.p95 },
            ]}
            xScaleType="categorical"
            yDomain={[0, Math.max(1, ...approvals.p95.map((p) => p.y))]}
            xTitle="Rule"
            yTitle="Minutes"
            height={220}
            hideFilter
            ariaLabel="Approval time p50 and p95 per rule"
            empty={<Empty header="No approvals" text="No ticket was approved by a person in this range." />}
            noMatch={<Empty header="No approvals" text="Nothing matches." />}
          />
        </Container>
        <ColumnLayout columns={2}>
          <Top title="Most requested accounts" items={insights.topAccounts} />
          <Top title="Most requested permission sets" items={insights.topPermissionSets} />
        </ColumnLayout>
        <Container header={<Header variant="h2">Break-glass, revokes and the AWS budget</Header>}>
          <ColumnLayout columns={3} variant="text-grid">
            <div>
              <Box variant="awsui-key-label">Break-glass</Box>
              <div>{insights.breakGlass.used} used in this range</div>
              <StatusIndicator type={insights.breakGlass.reviewsOutstanding ? "warning" : "success"}>
                {insights.breakGlass.reviewsOutstanding} review{insights.breakGlass.reviewsOutstanding === 1 ? "" : "s"}{" "}
                outstanding
              </StatusIndicator>
            </div>
            <div>
              <Box variant="awsui-key-label">Revoke lateness</Box>
              <StatusIndicator type={lateness.type}>{lateness.text}</StatusIndicator>
            </div>
            <div>
              <Box variant="awsui-key-label">AWS call budget (now)</Box>
              {budget ? (
                <ProgressBar
                  value={budgetPercent(budget)}
                  label="Outstanding writes"
                  description={`${budget.outstanding} of ${budget.maxOutstanding} write slots in use; ${budget.ratePerSecond} calls a second (${budget.mode})`}
                  ariaLabel="Outstanding writes of the AWS budget"
                />
              ) : (
                <div>Admins and auditors see the deployment's AWS budget.</div>
              )}
            </div>
          </ColumnLayout>
        </Container>
      </SpaceBetween>
    </ContentLayout>
  );
}
