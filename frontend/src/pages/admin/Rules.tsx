import { useState } from "react";
import { useParams } from "react-router-dom";
import { useQuery } from "urql";
import { useCollection } from "@cloudscape-design/collection-hooks";
import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import ColumnLayout from "@cloudscape-design/components/column-layout";
import Container from "@cloudscape-design/components/container";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Header from "@cloudscape-design/components/header";
import SegmentedControl from "@cloudscape-design/components/segmented-control";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import Tabs from "@cloudscape-design/components/tabs";
import TextFilter from "@cloudscape-design/components/text-filter";
import { ApprovalRulesDocument } from "../../graphql/generated/graphql";
import { Link } from "../../components/Link";
import { formatDateTime, formatDuration } from "../../lib/time";
import { rulesToYaml } from "../../lib/rulesYaml";
import { NEW_RULE_YAML, ruleToYaml } from "../../lib/ruleEditor";
import { isAdmin, useMe } from "../../app/me";
import Button from "@cloudscape-design/components/button";
import { useNavigate } from "react-router-dom";
import { RulePreview, RuleYamlEditor } from "./RuleEditor";

const list = (xs: string[]) => (xs.length ? xs.join(", ") : "-");

export function RulesPage() {
  const [{ data, fetching, error }] = useQuery({ query: ApprovalRulesDocument });
  const [view, setView] = useState("table");
  const admin = isAdmin(useMe());
  const navigate = useNavigate();
  const rules = data?.approvalRules ?? [];
  const { items, collectionProps, filterProps, filteredItemsCount } = useCollection(rules, {
    filtering: { empty: "No approval rules", noMatch: "No rule matches" },
    sorting: { defaultState: { sortingColumn: { sortingField: "name" } } },
  });
  return (
    <ContentLayout
      header={
        <Header
          variant="h1"
          description="Who may request what, and who approves. Apply changes with `jit rules apply`."
          actions={
            <SpaceBetween direction="horizontal" size="xs">
              <SegmentedControl
                selectedId={view}
                onChange={(e) => setView(e.detail.selectedId)}
                label="View"
                options={[
                  { id: "table", text: "Table" },
                  { id: "yaml", text: "YAML" },
                  ...(admin ? [{ id: "preview", text: "Preview" }] : []),
                ]}
              />
              {admin && <Button onClick={() => navigate("/admin/rules/new")}>Create rule</Button>}
            </SpaceBetween>
          }
        >
          Approval rules
        </Header>
      }
    >
      {view === "preview" ? (
        <RulePreview />
      ) : view === "yaml" ? (
        <Container header={<Header variant="h2">rules.yaml</Header>}>
          <pre style={{ margin: 0, overflowX: "auto" }} aria-label="Approval rules as YAML" tabIndex={0}>
            {rulesToYaml(rules)}
          </pre>
        </Container>
      ) : (
        <Table
          {...collectionProps}
          variant="container"
          items={items}
          loading={fetching}
          loadingText="Loading rules"
          ariaLabels={{ tableLabel: "Approval rules" }}
          wrapLines
          header={<Header counter={`(${rules.length})`}>Rules</Header>}
          filter={
            <TextFilter
              {...filterProps}
              filteringAriaLabel="Find rules"
              filteringPlaceholder="Find rules"
              countText={`${filteredItemsCount ?? 0} matches`}
            />
          }
          empty={<Box textAlign="center">{error?.message ?? "No approval rules"}</Box>}
          columnDefinitions={[
            {
              id: "name",
              header: "Name",
              sortingField: "name",
              cell: (r) => <Link href={`/admin/rules/${encodeURIComponent(r.name)}`}>{r.name}</Link>,
            },
            {
              id: "requesters",
              header: "Requesters",
              cell: (r) => list([...r.requesters.users, ...r.requesters.groups.map((g) => `group ${g}`)]),
            },
            {
              id: "scope",
              header: "Scope",
              cell: (r) => list([...r.scope.accounts, ...r.scope.organizationalUnits, ...r.scope.permissionSets]),
            },
            {
              id: "max",
              header: "Longest",
              sortingField: "maxDurationSeconds",
              cell: (r) => formatDuration(r.maxDurationSeconds),
            },
            {
              id: "steps",
              header: "Approval",
              cell: (r) =>
                r.autoApproved ? "Auto-approved" : r.steps.map((s) => `${s.name} (${s.required})`).join(" → "),
            },
          ]}
        />
      )}
    </ContentLayout>
  );
}

export function NewRulePage() {
  return (
    <ContentLayout
      header={
        <Header variant="h1" description="Write the rule in the rules.yaml format; the server checks it.">
          Create approval rule
        </Header>
      }
    >
      <Container>
        <RuleYamlEditor ruleId={null} initial={NEW_RULE_YAML} />
      </Container>
    </ContentLayout>
  );
}

export function RuleDetailPage() {
  const { name = "" } = useParams();
  const admin = isAdmin(useMe());
  const [{ data, fetching }] = useQuery({ query: ApprovalRulesDocument });
  const rule = data?.approvalRules.find((r) => r.name === name);
  if (!rule) {
    return (
      <ContentLayout header={<Header variant="h1">{name}</Header>}>
        <Container>{fetching ? "Loading" : "No rule by that name."}</Container>
      </ContentLayout>
    );
  }
  return (
    <ContentLayout
      header={
        <Header variant="h1" description={rule.description}>
          {rule.name}
        </Header>
      }
    >
      <Tabs
        ariaLabel="Rule views"
        tabs={[
          {
            id: "details",
            label: "Details",
            content: (
              <SpaceBetween size="l">
                {rule.warnings.map((w) => (
                  <Alert key={w} type="warning" header="A step that can never be met">
                    {w}. Requests this step would govern are refused until the directory or the rule changes.
                  </Alert>
                ))}
                <Container header={<Header variant="h2">Rule</Header>}>
                  <ColumnLayout columns={3} variant="text-grid">
                    <div>
                      <Box variant="awsui-key-label">Requester users</Box>
                      {list(rule.requesters.users)}
                    </div>
                    <div>
                      <Box variant="awsui-key-label">Requester groups</Box>
                      {list(rule.requesters.groups)}
                    </div>
                    <div>
                      <Box variant="awsui-key-label">Longest ticket</Box>
                      {formatDuration(rule.maxDurationSeconds)}
                    </div>
                    <div>
                      <Box variant="awsui-key-label">Accounts</Box>
                      {list(rule.scope.accounts)}
                    </div>
                    <div>
                      <Box variant="awsui-key-label">Organizational units</Box>
                      {list(rule.scope.organizationalUnits)}
                    </div>
                    <div>
                      <Box variant="awsui-key-label">Permission sets</Box>
                      {list(rule.scope.permissionSets)}
                    </div>
                    <div>
                      <Box variant="awsui-key-label">Permission set groups</Box>
                      {list(rule.permissionSetGroups)}
                      {rule.permissionSetGroups.length > 0 &&
                        (rule.permissionSetGroupsBundleOnly
                          ? " (only as whole groups)"
                          : " (each permission set also alone)")}
                    </div>
                    <div>
                      <Box variant="awsui-key-label">Justification</Box>
                      {rule.justificationRequired ? "Required" : "Optional"}
                    </div>
                    <div>
                      <Box variant="awsui-key-label">Updated</Box>
                      {formatDateTime(rule.updatedAt)}
                    </div>
                  </ColumnLayout>
                </Container>
                <Table
                  header={
                    <Header variant="h2" counter={`(${rule.steps.length})`}>
                      Approval steps
                    </Header>
                  }
                  items={rule.steps}
                  ariaLabels={{ tableLabel: "Approval steps" }}
                  empty={<Box>Auto-approved: no steps.</Box>}
                  columnDefinitions={[
                    { id: "n", header: "#", cell: (s) => rule.steps.indexOf(s) + 1 },
                    { id: "name", header: "Step", cell: (s) => s.name },
                    { id: "users", header: "Users", cell: (s) => list(s.users) },
                    { id: "groups", header: "Groups", cell: (s) => list(s.groups) },
                    { id: "req", header: "Approvals needed", cell: (s) => s.required },
                  ]}
                />
              </SpaceBetween>
            ),
          },
          {
            id: "yaml",
            label: "YAML",
            content: (
              <Container>
                <pre style={{ margin: 0, overflowX: "auto" }} aria-label={`Rule ${rule.name} as YAML`} tabIndex={0}>
                  {rulesToYaml([rule])}
                </pre>
              </Container>
            ),
          },
          ...(admin
            ? [
                {
                  id: "edit",
                  label: "Edit",
                  content: (
                    <Container>
                      <RuleYamlEditor key={rule.id + rule.updatedAt} ruleId={rule.id} initial={ruleToYaml(rule)} />
                    </Container>
                  ),
                },
                { id: "preview", label: "Preview", content: <RulePreview /> },
              ]
            : []),
        ]}
      />
    </ContentLayout>
  );
}
