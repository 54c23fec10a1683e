import { useMutation, useQuery } from "urql";
import { stringify } from "yaml";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ColumnLayout from "@cloudscape-design/components/column-layout";
import Container from "@cloudscape-design/components/container";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Header from "@cloudscape-design/components/header";
import SpaceBetween from "@cloudscape-design/components/space-between";
import {
  ApproveRuleChangeDocument,
  PendingRuleChangesDocument,
  RejectRuleChangeDocument,
  type PendingRuleChangeFieldsFragment,
} from "../../graphql/generated/graphql";
import { useMe } from "../../app/me";
import { useNotifications } from "../../app/notifications";
import { TextAction } from "../../components/TextAction";
import { resultMessage } from "../../lib/errors";
import { userText } from "../../components/targets";
import { formatDateTime } from "../../lib/time";

/** Rule changes to guarded OUs wait here for a second admin. */
export function RuleChangesPage() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: PendingRuleChangesDocument });
  const changes = data?.pendingRuleChanges ?? [];
  const reload = () => refetch({ requestPolicy: "network-only" });
  return (
    <ContentLayout
      header={
        <Header
          variant="h1"
          counter={`(${changes.length})`}
          description="Changes to rules that govern guarded organizational units take effect only when a second admin approves them."
          actions={<Button iconName="refresh" ariaLabel="Refresh" onClick={reload} />}
        >
          Pending rule changes
        </Header>
      }
    >
      <SpaceBetween size="l">
        {fetching && !data && <Box>Loading</Box>}
        {!fetching && changes.length === 0 && (
          <Container>
            <Box>{error ? error.message : "No rule change is waiting."}</Box>
          </Container>
        )}
        {changes.map((c) => (
          <RuleChange key={c.id} change={c} onDone={reload} />
        ))}
      </SpaceBetween>
    </ContentLayout>
  );
}

function RuleChange({ change, onDone }: { change: PendingRuleChangeFieldsFragment; onDone: () => void }) {
  const me = useMe();
  const { notify } = useNotifications();
  const [, approve] = useMutation(ApproveRuleChangeDocument);
  const [, reject] = useMutation(RejectRuleChangeDocument);
  const own = change.proposedBy?.id === me.user.id;
  const decide = (approveIt: boolean) => async (comment: string) => {
    const error = approveIt
      ? resultMessage(await approve({ id: change.id, comment }), "approveRuleChange")
      : resultMessage(await reject({ id: change.id, comment }), "rejectRuleChange");
    if (!error) {
      notify({
        type: "success",
        content: `Change to ${change.ruleName} ${approveIt ? "approved and applied" : "rejected"}.`,
      });
      onDone();
    }
    return error;
  };
  return (
    <Container
      header={
        <Header
          variant="h2"
          description={`Proposed by ${userText(change.proposedBy)} at ${formatDateTime(change.proposedAt)}${own ? " (you: another admin must decide)" : ""}`}
          actions={
            <SpaceBetween direction="horizontal" size="xs">
              <TextAction
                disabled={own}
                ariaLabel={`Reject change to ${change.ruleName}`}
                header={`Reject change to ${change.ruleName}`}
                label="Comment"
                confirmText="Reject"
                run={decide(false)}
              >
                Reject
              </TextAction>
              <TextAction
                variant="primary"
                disabled={own}
                ariaLabel={`Approve change to ${change.ruleName}`}
                header={`Approve change to ${change.ruleName}`}
                label="Comment"
                confirmText="Approve"
                run={decide(true)}
              >
                Approve
              </TextAction>
            </SpaceBetween>
          }
        >
          {change.action} {change.ruleName}
        </Header>
      }
    >
      <ColumnLayout columns={2}>
        <div>
          <Box variant="awsui-key-label">Before</Box>
          <Box variant="code">
            <pre style={{ margin: 0, whiteSpace: "pre-wrap" }}>
              {change.before ? stringify(change.before) : "(none)"}
            </pre>
          </Box>
        </div>
        <div>
          <Box variant="awsui-key-label">After</Box>
          <Box variant="code">
            <pre style={{ margin: 0, whiteSpace: "pre-wrap" }}>
              {change.after ? stringify(change.after) : "(deleted)"}
            </pre>
          </Box>
        </div>
      </ColumnLayout>
    </Container>
  );
}
