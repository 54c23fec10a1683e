import { useMemo, useState, type ReactNode } from "react";
import { useMutation, useQuery } from "urql";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ContentLayout from "@cloudscape-design/components/content-layout";
import DatePicker from "@cloudscape-design/components/date-picker";
import Form from "@cloudscape-design/components/form";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Modal from "@cloudscape-design/components/modal";
import Multiselect from "@cloudscape-design/components/multiselect";
import Select from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import StatusIndicator from "@cloudscape-design/components/status-indicator";
import Table from "@cloudscape-design/components/table";
import Textarea from "@cloudscape-design/components/textarea";
import TimeInput from "@cloudscape-design/components/time-input";
import Toggle from "@cloudscape-design/components/toggle";
import {
  ApprovalRulesDocument,
  CreateDelegationDocument,
  DelegationsDocument,
  RevokeDelegationDocument,
  UsersDocument,
  type DelegationFieldsFragment,
} from "../graphql/generated/graphql";
import { useMe } from "../app/me";
import { useNotifications } from "../app/notifications";
import { userText } from "../components/targets";
import { checkDelegationForm, splitDelegations } from "../lib/delegations";
import { isResultError } from "../lib/errors";
import { formatDateTime, localDateTimeToIso } from "../lib/time";

const STATE: Record<string, { type: "success" | "pending" | "stopped" | "info"; text: string }> = {
  ACTIVE: { type: "success", text: "Active" },
  NOT_STARTED: { type: "pending", text: "Not started" },
  EXPIRED: { type: "stopped", text: "Expired" },
  REVOKED: { type: "stopped", text: "Revoked" },
};

export function DelegationsPage() {
  const me = useMe();
  const { notify } = useNotifications();
  const [includeInactive, setIncludeInactive] = useState(false);
  const [{ data, fetching, error }, refetch] = useQuery({ query: DelegationsDocument, variables: { includeInactive } });
  const [, revoke] = useMutation(RevokeDelegationDocument);
  const [creating, setCreating] = useState(false);
  const { given, received } = useMemo(() => splitDelegations(data?.delegations ?? [], me.user.id), [data, me.user.id]);
  const reload = () => refetch({ requestPolicy: "network-only" });

  const onRevoke = async (d: DelegationFieldsFragment) => {
    const res = await revoke({ id: d.id });
    const out = res.data?.revokeDelegation;
    if (res.error || !out) notify({ type: "error", content: res.error?.message ?? "The request failed." });
    else if (isResultError(out))
      notify({ type: "error", header: "Could not revoke the delegation", content: out.message });
    else notify({ type: "success", content: `Delegation to ${userText(out.delegate)} revoked.` });
    reload();
  };

  const table = (
    title: string,
    items: DelegationFieldsFragment[],
    other: "delegate" | "delegator",
    actions?: ReactNode,
  ) => (
    <Table
      variant="container"
      items={items}
      trackBy="id"
      loading={fetching && !data}
      loadingText="Loading delegations"
      wrapLines
      ariaLabels={{ tableLabel: title }}
      header={
        <Header counter={`(${items.length})`} actions={actions}>
          {title}
        </Header>
      }
      empty={
        <Box textAlign="center" color="inherit">
          {error ? error.message : "None."}
        </Box>
      }
      columnDefinitions={[
        { id: "who", header: other === "delegate" ? "Delegate" : "Delegator", cell: (d) => userText(d[other]) },
        {
          id: "state",
          header: "State",
          cell: (d) => <StatusIndicator type={STATE[d.state].type}>{STATE[d.state].text}</StatusIndicator>,
        },
        { id: "starts", header: "Starts", cell: (d) => formatDateTime(d.startsAt) },
        { id: "ends", header: "Ends", cell: (d) => formatDateTime(d.endsAt) },
        { id: "rules", header: "Rules", cell: (d) => (d.ruleNames.length ? d.ruleNames.join(", ") : "All my rules") },
        { id: "reason", header: "Reason", cell: (d) => d.reason },
        {
          id: "actions",
          header: "Actions",
          cell: (d) =>
            d.state === "ACTIVE" || d.state === "NOT_STARTED" ? (
              <Button
                variant="inline-link"
                ariaLabel={`Revoke delegation ${other === "delegate" ? "to" : "from"} ${userText(d[other])}`}
                onClick={() => onRevoke(d)}
              >
                Revoke
              </Button>
            ) : (
              "-"
            ),
        },
      ]}
    />
  );

  return (
    <ContentLayout
      header={
        <Header
          variant="h1"
          description="Let someone decide tickets in your name for a while, for example during a holiday. Delegations are not passed on."
          actions={
            <Toggle checked={includeInactive} onChange={(e) => setIncludeInactive(e.detail.checked)}>
              Show ended
            </Toggle>
          }
        >
          Delegations
        </Header>
      }
    >
      <SpaceBetween size="l">
        {table(
          "Given by me",
          given,
          "delegate",
          <Button variant="primary" onClick={() => setCreating(true)}>
            Create delegation
          </Button>,
        )}
        {table("Given to me", received, "delegator")}
      </SpaceBetween>
      {creating && (
        <CreateDelegationModal
          onClose={() => {
            setCreating(false);
            reload();
          }}
        />
      )}
    </ContentLayout>
  );
}

function CreateDelegationModal({ onClose }: { onClose: () => void }) {
  const me = useMe();
  const { notify } = useNotifications();
  const [{ data: users }] = useQuery({ query: UsersDocument });
  const [{ data: rules }] = useQuery({ query: ApprovalRulesDocument });
  const [, create] = useMutation(CreateDelegationDocument);
  const [delegateId, setDelegateId] = useState<string | null>(null);
  const [endDate, setEndDate] = useState("");
  const [endTime, setEndTime] = useState("18:00");
  const [reason, setReason] = useState("");
  const [ruleIds, setRuleIds] = useState<string[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const userOptions = (users?.users ?? [])
    .filter((u) => u.id !== me.user.id)
    .map((u) => ({ value: u.id, label: u.userName, description: u.displayName }));
  const ruleOptions = (rules?.approvalRules ?? []).map((r) => ({ value: r.id, label: r.name }));

  const submit = async () => {
    const checked = checkDelegationForm(
      { delegateId, endDate, endTime, reason },
      me.user.id,
      new Date(),
      localDateTimeToIso,
    );
    setErrors(checked.errors);
    setFormError(null);
    if (Object.keys(checked.errors).length || !checked.endsAt || !delegateId) return;
    setBusy(true);
    const res = await create({
      input: { delegateId, endsAt: checked.endsAt, reason: reason.trim(), ruleIds: ruleIds.length ? ruleIds : null },
    });
    setBusy(false);
    const out = res.data?.createDelegation;
    if (res.error || !out) return setFormError(res.error?.message ?? "The request failed.");
    if (isResultError(out)) {
      const field = out.field === "delegateId" || out.field === "endsAt" || out.field === "reason" ? out.field : null;
      if (field) setErrors({ [field]: out.message });
      else setFormError(out.message);
      return;
    }
    notify({
      type: "success",
      content: `${userText(out.delegate)} may now decide in your name until ${formatDateTime(out.endsAt)}.`,
    });
    onClose();
  };

  return (
    <Modal visible onDismiss={onClose} header="Create delegation">
      <Form
        errorText={formError}
        actions={
          <SpaceBetween direction="horizontal" size="xs">
            <Button variant="link" onClick={onClose}>
              Back
            </Button>
            <Button variant="primary" loading={busy} onClick={submit}>
              Create
            </Button>
          </SpaceBetween>
        }
      >
        <SpaceBetween size="m">
          <FormField label="Delegate" description="Who may decide in your name." errorText={errors.delegateId}>
            <Select
              selectedOption={userOptions.find((o) => o.value === delegateId) ?? null}
              onChange={(e) => setDelegateId(e.detail.selectedOption.value ?? null)}
              options={userOptions}
              filteringType="auto"
              placeholder="Choose a user"
              ariaLabel="Delegate"
            />
          </FormField>
          <FormField label="Ends" description="Starts now; ends at this local date and time." errorText={errors.endsAt}>
            <SpaceBetween direction="horizontal" size="xs">
              <DatePicker
                value={endDate}
                onChange={(e) => setEndDate(e.detail.value)}
                placeholder="YYYY/MM/DD"
                ariaLabel="End date"
                openCalendarAriaLabel={(d) => `Choose end date${d ? `, selected ${d}` : ""}`}
              />
              <TimeInput
                value={endTime}
                onChange={(e) => setEndTime(e.detail.value)}
                format="hh:mm"
                placeholder="hh:mm"
                ariaLabel="End time"
              />
            </SpaceBetween>
          </FormField>
          <FormField label="Rules" description="Leave empty for every rule you approve for.">
            <Multiselect
              selectedOptions={ruleOptions.filter((o) => ruleIds.includes(o.value))}
              onChange={(e) => setRuleIds(e.detail.selectedOptions.map((o) => o.value!))}
              options={ruleOptions}
              placeholder="All my rules"
              ariaLabel="Rules"
            />
          </FormField>
          <FormField label="Reason" errorText={errors.reason} stretch>
            <Textarea value={reason} onChange={(e) => setReason(e.detail.value)} ariaLabel="Reason" />
          </FormField>
        </SpaceBetween>
      </Form>
    </Modal>
  );
}
