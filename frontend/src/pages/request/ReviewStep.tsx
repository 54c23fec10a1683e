import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import ColumnLayout from "@cloudscape-design/components/column-layout";
import Container from "@cloudscape-design/components/container";
import Header from "@cloudscape-design/components/header";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import type { Me } from "../../app/me";
import { choiceName } from "../../lib/targets";
import { formatDuration } from "../../lib/time";
import { accountLabel } from "./TargetsStep";
import type { RequestForm } from "./useRequestForm";

/** Step 5: the whole request, and who each governing rule will ask to approve it. */
export function ReviewStep({ form, me }: { form: RequestForm; me: Me }) {
  const { values, facts } = form;
  const { selected, startMode } = values;
  const { startIso, rules } = facts;
  return (
    <SpaceBetween size="l">
      <Container header={<Header variant="h2">Request</Header>}>
        <ColumnLayout columns={3} variant="text-grid">
          <div>
            <Box variant="awsui-key-label">Principal</Box>
            <div>{me.user.userName}</div>
          </div>
          <div>
            <Box variant="awsui-key-label">Start</Box>
            <div>
              {startMode === "now"
                ? "Now"
                : startMode === "approved"
                  ? "When approved"
                  : startIso
                    ? new Date(startIso).toLocaleString()
                    : "-"}
            </div>
          </div>
          <div>
            <Box variant="awsui-key-label">Duration</Box>
            <div>{formatDuration(facts.durationSeconds)}</div>
          </div>
          <div>
            <Box variant="awsui-key-label">Justification</Box>
            <div>{values.justification || "-"}</div>
          </div>
          <div>
            <Box variant="awsui-key-label">External reference</Box>
            <div>{values.externalRef || "-"}</div>
          </div>
          {facts.useBreakGlass && (
            <div>
              <Box variant="awsui-key-label">Break-glass</Box>
              <div>Yes: {values.breakGlassReason || "-"}</div>
            </div>
          )}
        </ColumnLayout>
      </Container>
      <Table
        header={
          <Header variant="h2" counter={`(${selected.length})`}>
            Targets
          </Header>
        }
        items={selected}
        ariaLabels={{ tableLabel: "Chosen targets" }}
        columnDefinitions={[
          { id: "account", header: "Account", cell: accountLabel },
          { id: "ps", header: "Permission set or group", cell: (t) => choiceName(t) },
          { id: "rule", header: "Approval rule", cell: (t) => t.ruleName },
        ]}
      />
      <Container
        header={
          <Header variant="h2" description="Every governing rule's steps must pass, strictest first.">
            Who will be asked to approve
          </Header>
        }
      >
        {rules.length === 0 ? (
          <Box>-</Box>
        ) : (
          <SpaceBetween size="s">
            {rules.map((r) => (
              <div key={r.id} data-testid="review-rule">
                <Box variant="h3">Rule {r.name}</Box>
                {r.steps.length === 0 ? (
                  <Alert type="info">Auto-approved: no approval needed.</Alert>
                ) : (
                  <ol>
                    {r.steps.map((s, i) => (
                      <li key={i}>
                        {s.name}: {s.required} of {[...s.users, ...s.groups.map((g) => `group ${g}`)].join(", ")}
                      </li>
                    ))}
                  </ol>
                )}
              </div>
            ))}
          </SpaceBetween>
        )}
      </Container>
    </SpaceBetween>
  );
}
