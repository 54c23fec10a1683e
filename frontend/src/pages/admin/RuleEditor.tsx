import { useState } from "react";
import { useNavigate } from "react-router-dom";
import { useMutation, useQuery } from "urql";
import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import Form from "@cloudscape-design/components/form";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Select from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import Textarea from "@cloudscape-design/components/textarea";
import {
  ApprovalPreviewDocument,
  CreateApprovalRuleDocument,
  DirectoryDocument,
  UpdateApprovalRuleDocument,
} from "../../graphql/generated/graphql";
import { useNotifications } from "../../app/notifications";
import { isResultError } from "../../lib/errors";
import { previewThrough, yamlField, yamlToRuleInput } from "../../lib/ruleEditor";
import { formatDuration } from "../../lib/time";

/** Edit one rule as YAML; saving sends the whole rule. A rule over a guarded OU becomes a pending change. */
export function RuleYamlEditor({ ruleId, initial }: { ruleId: string | null; initial: string }) {
  const navigate = useNavigate();
  const { notify } = useNotifications();
  const [text, setText] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [, create] = useMutation(CreateApprovalRuleDocument);
  const [, update] = useMutation(UpdateApprovalRuleDocument);

  const save = async () => {
    const parsed = yamlToRuleInput(text);
    if ("error" in parsed) return setError(parsed.error);
    setError(null);
    setBusy(true);
    const res = ruleId ? await update({ id: ruleId, input: parsed.input }) : await create({ input: parsed.input });
    setBusy(false);
    const out = res.data
      ? "updateApprovalRule" in res.data
        ? res.data.updateApprovalRule
        : res.data.createApprovalRule
      : null;
    if (res.error || !out) return setError(res.error?.message ?? "The request failed.");
    if (isResultError(out)) return setError(out.field ? `${yamlField(out.field)}: ${out.message}` : out.message);
    if (out.__typename === "PendingRuleChange") {
      notify({
        type: "info",
        content: `The change to ${out.ruleName} governs a guarded OU: it waits for a second admin.`,
      });
      navigate("/admin/rule-changes");
    } else if (out.__typename === "ApprovalRule") {
      notify({ type: "success", content: `Rule ${out.name} saved.` });
      // Saved, but a step that can never be met refuses every request it would govern.
      for (const warning of out.warnings) notify({ type: "warning", content: warning });
      navigate(`/admin/rules/${encodeURIComponent(out.name)}`);
    }
  };

  return (
    <Form
      errorText={error}
      actions={
        <Button variant="primary" loading={busy} onClick={save}>
          {ruleId ? "Save rule" : "Create rule"}
        </Button>
      }
    >
      <FormField
        label="Rule as YAML"
        description="The rules.yaml format of `jit rules apply`. Saving replaces the whole rule."
        stretch
      >
        <Textarea
          value={text}
          onChange={(e) => setText(e.detail.value)}
          rows={24}
          ariaLabel="Rule as YAML"
          spellcheck={false}
        />
      </FormField>
    </Form>
  );
}

/** Who may request a target and who approves it, as the server's authorization answers it now. */
export function RulePreview() {
  const [{ data: directory }] = useQuery({ query: DirectoryDocument });
  const [accountId, setAccountId] = useState<string | null>(null);
  const [permissionSet, setPermissionSet] = useState<string | null>(null);
  const ready = !!accountId && !!permissionSet;
  const [{ data, fetching, error }] = useQuery({
    query: ApprovalPreviewDocument,
    variables: { accountId: accountId ?? "", permissionSet: permissionSet ?? "" },
    pause: !ready,
  });
  const accountOptions = (directory?.accounts ?? []).map((a) => ({ value: a.id, label: a.name, description: a.id }));
  const psOptions = (directory?.permissionSets ?? []).map((p) => ({ value: p.arn, label: p.name }));
  const result = data?.approvalPreview;
  const users = (xs: { userName: string }[]) => (xs.length ? xs.map((u) => u.userName).join(", ") : "nobody");

  return (
    <Container
      header={
        <Header
          variant="h2"
          description="For one account and permission set: who may request it for themself, and who approves, rule by rule."
        >
          Preview
        </Header>
      }
    >
      <SpaceBetween size="m">
        <SpaceBetween direction="horizontal" size="s">
          <FormField label="Account">
            <Select
              selectedOption={accountOptions.find((o) => o.value === accountId) ?? null}
              onChange={(e) => setAccountId(e.detail.selectedOption.value ?? null)}
              options={accountOptions}
              filteringType="auto"
              placeholder="Choose an account"
              ariaLabel="Preview account"
            />
          </FormField>
          <FormField label="Permission set">
            <Select
              selectedOption={psOptions.find((o) => o.value === permissionSet) ?? null}
              onChange={(e) => setPermissionSet(e.detail.selectedOption.value ?? null)}
              options={psOptions}
              filteringType="auto"
              placeholder="Choose a permission set"
              ariaLabel="Preview permission set"
            />
          </FormField>
        </SpaceBetween>
        {!ready && <Box color="text-body-secondary">Choose an account and a permission set.</Box>}
        {ready && (error || (result && isResultError(result))) && (
          <Alert type="error">{error?.message ?? (result && isResultError(result) ? result.message : "")}</Alert>
        )}
        {ready && result?.__typename === "ApprovalPreview" && (
          <Table
            items={result.rules}
            loading={fetching}
            loadingText="Asking the server"
            wrapLines
            ariaLabels={{ tableLabel: "Who can request and who approves" }}
            empty={<Box>No rule covers this target: nobody can request it.</Box>}
            columnDefinitions={[
              { id: "rule", header: "Rule", cell: (r) => r.name },
              { id: "through", header: "Through", cell: (r) => previewThrough(r) },
              { id: "requesters", header: "Who can request", cell: (r) => users(r.requesters) },
              {
                id: "approvers",
                header: "Who approves",
                cell: (r) =>
                  r.autoApproved
                    ? "Auto-approved"
                    : r.steps.map((s, i) => `${i + 1}. ${s.name} (${s.required} of ${users(s.approvers)})`).join("; "),
              },
              { id: "max", header: "Longest", cell: (r) => formatDuration(r.maxDurationSeconds) },
            ]}
          />
        )}
      </SpaceBetween>
    </Container>
  );
}
