import { useMemo, useState } from "react";
import { useNavigate } from "react-router-dom";
import { useMutation, useQuery } from "urql";
import { useCollection } from "@cloudscape-design/collection-hooks";
import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Checkbox from "@cloudscape-design/components/checkbox";
import ColumnLayout from "@cloudscape-design/components/column-layout";
import Container from "@cloudscape-design/components/container";
import DatePicker from "@cloudscape-design/components/date-picker";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import Multiselect from "@cloudscape-design/components/multiselect";
import Pagination from "@cloudscape-design/components/pagination";
import RadioGroup from "@cloudscape-design/components/radio-group";
import Select, { type SelectProps } from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import TextFilter from "@cloudscape-design/components/text-filter";
import Textarea from "@cloudscape-design/components/textarea";
import TimeInput from "@cloudscape-design/components/time-input";
import Wizard from "@cloudscape-design/components/wizard";
import {
  ApprovalRulesDocument,
  BreakGlassTicketDocument,
  OrganizationalUnitsDocument,
  RequestableTargetsDocument,
  RequestTicketDocument,
  type RequestableAccountFieldsFragment,
  type RequestableTargetsQuery,
} from "../graphql/generated/graphql";
import { useMe } from "../app/me";
import { useNotifications } from "../app/notifications";
import { choiceName, filterIndexed, indexTargets, keepOnAccounts, maxDurationFor, targetInput, targetKey, type TargetFilter } from "../lib/targets";
import { AccountPicker } from "./request/AccountPicker";
import { formatDuration, localDateTimeToIso, startInput, toSeconds, type DurationUnit, type StartMode } from "../lib/time";
import { isResultError, REQUEST_FIELD_STEP, toFieldErrors } from "../lib/errors";

type Requestable = RequestableTargetsQuery["requestableTargets"][number];

const FIELDS = Object.keys(REQUEST_FIELD_STEP);
const UNITS: SelectProps.Option[] = [
  { value: "minutes", label: "minutes" },
  { value: "hours", label: "hours" },
  { value: "days", label: "days" },
];

export function RequestAccessPage() {
  const me = useMe();
  const navigate = useNavigate();
  const { notify } = useNotifications();
  const [accounts, setAccounts] = useState<RequestableAccountFieldsFragment[]>([]);
  const accountIds = useMemo(() => accounts.map((a) => a.id), [accounts]);
  // Targets only for the chosen accounts: never the whole organization at once.
  const [{ data, fetching, error }] = useQuery({
    query: RequestableTargetsDocument,
    variables: { accountIds },
    pause: !accountIds.length,
  });
  const [{ data: ouData }] = useQuery({ query: OrganizationalUnitsDocument });
  const [{ data: rulesData }] = useQuery({ query: ApprovalRulesDocument });
  const [, requestTicket] = useMutation(RequestTicketDocument);
  const [, breakGlassTicket] = useMutation(BreakGlassTicketDocument);

  const [step, setStep] = useState(0);
  const [selected, setSelected] = useState<Requestable[]>([]);
  const [filter, setFilter] = useState<TargetFilter>({ text: "", ouId: null, tags: [], permissionSets: [] });
  const [startMode, setStartMode] = useState<StartMode>("now");
  const [startDate, setStartDate] = useState("");
  const [startTime, setStartTime] = useState("");
  const [amount, setAmount] = useState("1");
  const [unit, setUnit] = useState<DurationUnit>("hours");
  const [justification, setJustification] = useState("");
  const [externalRef, setExternalRef] = useState("");
  const [breakGlass, setBreakGlass] = useState(false);
  const [breakGlassReason, setBreakGlassReason] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  const all = useMemo(() => (accountIds.length ? keepOnAccounts(data?.requestableTargets ?? [], accountIds) : []), [data, accountIds]);
  const ous = ouData?.organizationalUnits ?? [];
  const ouName = useMemo(() => Object.fromEntries(ous.map((o) => [o.id, o.name])), [ous]);
  const ouPathText = (path: string) =>
    "/" + path.split("/").filter(Boolean).slice(1).map((id) => ouName[id] ?? id).join("/");
  const ouOptions: SelectProps.Option[] = useMemo(
    () => [
      { value: "", label: "All organizational units" },
      ...ous
        .filter((o) => o.parentId !== null || o.path.split("/").filter(Boolean).length > 1)
        .map((o) => ({ value: o.id, label: ouPathText(o.path) }))
        .sort((a, b) => a.label.localeCompare(b.label)),
    ],
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [ous, ouName],
  );
  const index = useMemo(() => indexTargets(all), [all]);
  // Distinct tags and permission sets, computed once per load rather than per keystroke.
  const { tagOptions, psOptions } = useMemo(() => {
    const tags = new Set<string>();
    const sets = new Set<string>();
    for (const name of index.permissionSetNames.values()) sets.add(name);
    for (const g of index.groups) for (const tag of g.tags) tags.add(tag);
    return {
      tagOptions: [...tags].sort().map((v) => ({ value: v, label: v })),
      psOptions: [...sets].sort().map((v) => ({ value: v, label: v })),
    };
  }, [index]);

  const filtered = useMemo(() => filterIndexed(index, filter), [index, filter]);
  const { items, collectionProps, paginationProps } = useCollection(filtered, {
    pagination: { pageSize: 20 },
    sorting: {},
    selection: { trackBy: targetKey },
  });

  const cap = maxDurationFor(selected);
  const durationSeconds = toSeconds(Number(amount), unit);
  const justificationRequired = selected.some((t) => t.justificationRequired);
  const ruleNames = [...new Set(selected.map((t) => t.ruleName))];
  const rules = (rulesData?.approvalRules ?? []).filter((r) => ruleNames.includes(r.name));
  // Offered only when every governing rule allows it and some step would otherwise ask someone; the server checks again.
  const breakGlassAllowed = rules.length > 0 && rules.every((r) => r.breakGlass) && rules.some((r) => r.steps.length > 0);
  const useBreakGlass = breakGlass && breakGlassAllowed;
  const startIso = startMode === "later" ? localDateTimeToIso(startDate, startTime) : null;

  /** Client-side checks for one step; the server checks everything again. */
  const validate = (index: number): Record<string, string> => {
    const e: Record<string, string> = {};
    if (index === 0 && !selected.length) e.targets = "Choose at least one account and permission set.";
    if (index === 2) {
      if (!(Number(amount) > 0)) e.durationSeconds = "Enter a duration greater than zero.";
      else if (cap !== null && durationSeconds > cap) e.durationSeconds = `At most ${formatDuration(cap)} for the chosen targets.`;
      if (startMode === "later") {
        if (!startIso) e.startAt = "Enter a date and a time.";
        else if (new Date(startIso) < new Date()) e.startAt = "Choose a time in the future.";
      }
    }
    if (index === 3 && justificationRequired && !justification.trim()) e.justification = "A justification is required by the approval rule.";
    if (index === 3 && useBreakGlass && !breakGlassReason.trim()) e.breakGlassReason = "Break-glass needs a reason.";
    return e;
  };

  const submit = async () => {
    for (let i = 0; i < 4; i++) {
      const e = validate(i);
      if (Object.keys(e).length) {
        setErrors(e);
        setStep(i);
        return;
      }
    }
    setSubmitting(true);
    setFormError(null);
    const res = await requestTicket({
      input: {
        targets: selected.map(targetInput),
        durationSeconds,
        justification,
        externalRef: externalRef || null,
        ...startInput(startMode, startIso),
      },
    });
    setSubmitting(false);
    const result = res.data?.requestTicket;
    if (res.error || !result) {
      setFormError(res.error?.message ?? "The request failed.");
      return;
    }
    if (isResultError(result)) {
      const mapped = toFieldErrors(result, FIELDS);
      setErrors(mapped.fields);
      setFormError(mapped.form);
      const field = Object.keys(mapped.fields)[0];
      if (field !== undefined) setStep(REQUEST_FIELD_STEP[field]);
      return;
    }
    if (result.__typename === "Ticket" && useBreakGlass && result.status === "PENDING_APPROVAL") {
      const glass = await breakGlassTicket({ ticketId: result.id, reason: breakGlassReason.trim() });
      const out = glass.data?.breakGlassTicket;
      if (glass.error || !out || isResultError(out)) {
        notify({ type: "warning", header: `Ticket ${result.id.slice(0, 8)} requested, but break-glass was refused`, content: (out && isResultError(out) ? out.message : glass.error?.message) ?? "The request failed." });
      } else {
        notify({ type: "warning", content: `Ticket ${result.id.slice(0, 8)} approved by break-glass: access is being granted, and an approver will review it.` });
      }
      navigate(`/tickets/${result.id}`);
      return;
    }
    if (result.__typename === "Ticket") {
      notify({ type: "success", content: `Ticket ${result.id.slice(0, 8)} requested: ${result.status === "PENDING_APPROVAL" ? "waiting for approval" : result.status.toLowerCase().replace("_", " ")}.` });
      navigate(`/tickets/${result.id}`);
    }
  };

  const accountLabel = (t: Requestable) => `${t.account.name} (${t.account.id})`;

  return (
    <Wizard
      activeStepIndex={step}
      isLoadingNextStep={submitting}
      onNavigate={(e) => {
        const next = e.detail.requestedStepIndex;
        if (next > step) {
          const found = validate(step);
          setErrors(found);
          if (Object.keys(found).length) return;
        }
        setStep(next);
      }}
      onCancel={() => navigate("/")}
      onSubmit={submit}
      submitButtonText="Request access"
      i18nStrings={{
        stepNumberLabel: (n) => `Step ${n}`,
        collapsedStepsLabel: (n, total) => `Step ${n} of ${total}`,
        navigationAriaLabel: "Steps",
        cancelButton: "Cancel",
        previousButton: "Previous",
        nextButton: "Next",
        optional: "optional",
      }}
      steps={[
        {
          title: "Choose targets",
          description: "Find and choose accounts, then the permission sets you need on them.",
          errorText: errors.targets,
          content: (
            <SpaceBetween size="l">
            <AccountPicker
              chosen={accounts}
              onChange={(next) => {
                setAccounts(next);
                setSelected((cur) => keepOnAccounts(cur, next.map((a) => a.id)));
              }}
              ouOptions={ouOptions}
              ouPathText={ouPathText}
            />
            <Table
              {...collectionProps}
              selectedItems={selected}
              onSelectionChange={(e) => {
                setSelected(e.detail.selectedItems);
                setErrors((x) => ({ ...x, targets: "" }));
              }}
              selectionType="multi"
              trackBy={targetKey}
              variant="container"
              items={items}
              loading={fetching}
              loadingText="Loading what you may request on the chosen accounts"
              ariaLabels={{
                tableLabel: "Requestable targets",
                selectionGroupLabel: "Target selection",
                allItemsSelectionLabel: () => "Select all targets on this page",
                itemSelectionLabel: (_, t) => `Select ${t.account.name} ${choiceName(t)}`,
              }}
              header={
                <Header counter={selected.length ? `(${selected.length} selected of ${all.length})` : `(${all.length})`}>
                  Permission sets on the chosen accounts
                </Header>
              }
              filter={
                <SpaceBetween direction="horizontal" size="xs">
                  <TextFilter
                    filteringText={filter.text}
                    onChange={(e) => setFilter({ ...filter, text: e.detail.filteringText })}
                    filteringPlaceholder="Find accounts or permission sets"
                    filteringAriaLabel="Find accounts or permission sets"
                    countText={`${filtered.length} matches`}
                  />
                  <FormField label="Tags">
                    <Multiselect
                      selectedOptions={tagOptions.filter((o) => filter.tags.includes(o.value))}
                      onChange={(e) => setFilter({ ...filter, tags: e.detail.selectedOptions.map((o) => o.value ?? "") })}
                      options={tagOptions}
                      placeholder="Any tag"
                      filteringType="auto"
                      ariaLabel="Tags"
                      tokenLimit={2}
                    />
                  </FormField>
                  <FormField label="Permission sets">
                    <Multiselect
                      selectedOptions={psOptions.filter((o) => filter.permissionSets.includes(o.value))}
                      onChange={(e) => setFilter({ ...filter, permissionSets: e.detail.selectedOptions.map((o) => o.value ?? "") })}
                      options={psOptions}
                      placeholder="Any permission set"
                      filteringType="auto"
                      ariaLabel="Permission sets"
                      tokenLimit={2}
                    />
                  </FormField>
                </SpaceBetween>
              }
              pagination={
                <Pagination
                  {...paginationProps}
                  ariaLabels={{ nextPageLabel: "Next page", previousPageLabel: "Previous page", pageLabel: (n) => `Page ${n}` }}
                />
              }
              empty={<Box textAlign="center">{error ? error.message : accountIds.length ? "Nothing you may request matches." : "Choose one or more accounts above."}</Box>}
              columnDefinitions={[
                { id: "account", header: "Account", cell: accountLabel, sortingField: undefined },
                { id: "ou", header: "Organizational unit", cell: (t) => ouPathText(t.account.organizationalUnitPath) },
                { id: "ps", header: "Permission set or group", cell: (t) => choiceName(t) },
                { id: "rule", header: "Approval rule", cell: (t) => `${t.ruleName}${t.autoApproved ? " (auto-approved)" : ""}` },
                { id: "max", header: "Longest", cell: (t) => formatDuration(t.maxDurationSeconds) },
                { id: "tags", header: "Tags", cell: (t) => t.account.tags.map((x) => `${x.key}=${x.value}`).join(", ") || "-" },
              ]}
            />
            </SpaceBetween>
          ),
        },
        {
          title: "Choose the principal",
          description: "Who receives the access.",
          errorText: errors.principalId,
          content: (
            <Container header={<Header variant="h2">Principal</Header>}>
              <FormField label="Request access for" description="Requesting on someone else's behalf arrives with delegation.">
                <RadioGroup
                  value="me"
                  items={[{ value: "me", label: `Me (${me.user.userName})`, description: me.user.displayName }]}
                  ariaLabel="Request access for"
                />
              </FormField>
            </Container>
          ),
        },
        {
          title: "Set the time window",
          content: (
            <Container header={<Header variant="h2">Time window</Header>}>
              <SpaceBetween size="l">
                <FormField label="Start" errorText={errors.startAt}>
                  <SpaceBetween size="s">
                    <RadioGroup
                      value={startMode}
                      onChange={(e) => setStartMode(e.detail.value as StartMode)}
                      ariaLabel="Start"
                      items={[
                        {
                          value: "now",
                          label: "Now",
                          description: "The window starts at the request; time spent waiting for approval comes out of it.",
                        },
                        {
                          value: "approved",
                          label: "When approved",
                          description: "The whole duration counts from the final approval.",
                        },
                        { value: "later", label: "At a date and time" },
                      ]}
                    />
                    {startMode === "later" && (
                      <SpaceBetween direction="horizontal" size="xs">
                        <FormField label="Start date" description="YYYY/MM/DD">
                          <DatePicker
                            value={startDate}
                            onChange={(e) => setStartDate(e.detail.value)}
                            placeholder="YYYY/MM/DD"
                            ariaLabel="Start date"
                            openCalendarAriaLabel={(d) => `Choose start date${d ? `, selected date is ${d}` : ""}`}
                          />
                        </FormField>
                        <FormField label="Start time" description="24-hour clock, your local time">
                          <TimeInput value={startTime} onChange={(e) => setStartTime(e.detail.value)} format="hh:mm" placeholder="hh:mm" ariaLabel="Start time" />
                        </FormField>
                      </SpaceBetween>
                    )}
                  </SpaceBetween>
                </FormField>
                <FormField
                  label="Duration"
                  description={cap !== null ? `At most ${formatDuration(cap)}, the tightest limit among the chosen targets' rules.` : undefined}
                  errorText={errors.durationSeconds}
                >
                  <SpaceBetween direction="horizontal" size="xs">
                    <Input type="number" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.detail.value)} ariaLabel="Duration amount" />
                    <Select
                      selectedOption={UNITS.find((u) => u.value === unit) ?? UNITS[1]}
                      onChange={(e) => setUnit(e.detail.selectedOption.value as DurationUnit)}
                      options={UNITS}
                      ariaLabel="Duration unit"
                    />
                  </SpaceBetween>
                </FormField>
              </SpaceBetween>
            </Container>
          ),
        },
        {
          title: "Justify",
          content: (
            <Container header={<Header variant="h2">Justification</Header>}>
              <SpaceBetween size="l">
                <FormField
                  label="Justification"
                  description={justificationRequired ? "Required by the approval rule." : "Optional for the chosen targets."}
                  errorText={errors.justification}
                  stretch
                >
                  <Textarea value={justification} onChange={(e) => setJustification(e.detail.value)} ariaLabel="Justification" placeholder="What you need the access for" />
                </FormField>
                <FormField label="External reference" description="A change or incident number." errorText={errors.externalRef} constraintText="Optional">
                  <Input value={externalRef} onChange={(e) => setExternalRef(e.detail.value)} ariaLabel="External reference" />
                </FormField>
                {breakGlassAllowed && (
                  <FormField
                    label="Break-glass"
                    description="For emergencies: approve this ticket yourself. Access is granted at once and an approver reviews it afterwards."
                  >
                    <Checkbox checked={breakGlass} onChange={(e) => setBreakGlass(e.detail.checked)} ariaLabel="Use break-glass">
                      Use break-glass
                    </Checkbox>
                  </FormField>
                )}
                {useBreakGlass && (
                  <FormField label="Break-glass reason" description="Kept in the audit trail and shown to the reviewer." errorText={errors.breakGlassReason} stretch>
                    <Textarea value={breakGlassReason} onChange={(e) => setBreakGlassReason(e.detail.value)} ariaLabel="Break-glass reason" placeholder="The incident you are handling" />
                  </FormField>
                )}
              </SpaceBetween>
            </Container>
          ),
        },
        {
          title: "Review and request",
          errorText: formError ?? undefined,
          content: (
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
                    <div>{formatDuration(durationSeconds)}</div>
                  </div>
                  <div>
                    <Box variant="awsui-key-label">Justification</Box>
                    <div>{justification || "-"}</div>
                  </div>
                  <div>
                    <Box variant="awsui-key-label">External reference</Box>
                    <div>{externalRef || "-"}</div>
                  </div>
                  {useBreakGlass && (
                    <div>
                      <Box variant="awsui-key-label">Break-glass</Box>
                      <div>Yes: {breakGlassReason || "-"}</div>
                    </div>
                  )}
                </ColumnLayout>
              </Container>
              <Table
                header={<Header variant="h2" counter={`(${selected.length})`}>Targets</Header>}
                items={selected}
                ariaLabels={{ tableLabel: "Chosen targets" }}
                columnDefinitions={[
                  { id: "account", header: "Account", cell: accountLabel },
                  { id: "ps", header: "Permission set or group", cell: (t) => choiceName(t) },
                  { id: "rule", header: "Approval rule", cell: (t) => t.ruleName },
                ]}
              />
              <Container header={<Header variant="h2" description="Every governing rule's steps must pass, strictest first.">Who will be asked to approve</Header>}>
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
          ),
        },
      ]}
    />
  );
}
