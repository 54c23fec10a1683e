import { useNavigate } from "react-router-dom";
import { useMutation, useQuery } from "urql";
import Wizard from "@cloudscape-design/components/wizard";
import { ApprovalRulesDocument, RequestTicketDocument } from "../graphql/generated/graphql";
import { useMe } from "../app/me";
import { useNotifications } from "../app/notifications";
import { isResultError } from "../lib/errors";
import { JustifyStep } from "./request/JustifyStep";
import { PrincipalStep } from "./request/PrincipalStep";
import { ReviewStep } from "./request/ReviewStep";
import { TargetsStep } from "./request/TargetsStep";
import { TimeWindowStep } from "./request/TimeWindowStep";
import { requestInput, useRequestForm } from "./request/useRequestForm";
import { useTargetCatalog } from "./request/useTargetCatalog";

/** The request wizard: one component per step in ./request, the state and checks in useRequestForm. */
export function RequestAccessPage() {
  const me = useMe();
  const navigate = useNavigate();
  const { notify } = useNotifications();
  const [{ data: rulesData }] = useQuery({ query: ApprovalRulesDocument });
  const [, requestTicket] = useMutation(RequestTicketDocument);
  const form = useRequestForm(rulesData?.approvalRules ?? []);
  const catalog = useTargetCatalog(form.accounts, form.filter);
  const { values, facts, errors } = form;

  const submit = async () => {
    if (!form.begin()) return;
    const res = await requestTicket({ input: requestInput(values, facts) });
    form.finish();
    const result = res.data?.requestTicket;
    if (res.error || !result) {
      form.fail(res.error?.message ?? "The request failed.");
      return;
    }
    if (isResultError(result)) {
      form.refuse(result);
      return;
    }
    if (result.__typename === "Ticket" && result.breakGlass) {
      notify({
        type: "warning",
        content: `Ticket ${result.id.slice(0, 8)} approved by break-glass: access is being granted, and an approver will review it.`,
      });
      navigate(`/tickets/${result.id}`);
      return;
    }
    if (result.__typename === "Ticket") {
      notify({
        type: "success",
        content: `Ticket ${result.id.slice(0, 8)} requested: ${result.status === "PENDING_APPROVAL" ? "waiting for approval" : result.status.toLowerCase().replace("_", " ")}.`,
      });
      navigate(`/tickets/${result.id}`);
    }
  };

  return (
    <Wizard
      activeStepIndex={form.step}
      isLoadingNextStep={form.submitting}
      onNavigate={(e) => form.navigate(e.detail.requestedStepIndex)}
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
          content: <TargetsStep form={form} catalog={catalog} />,
        },
        {
          title: "Choose the principal",
          description: "Who receives the access.",
          errorText: errors.principalId,
          content: <PrincipalStep me={me} />,
        },
        { title: "Set the time window", content: <TimeWindowStep form={form} /> },
        { title: "Justify", content: <JustifyStep form={form} /> },
        {
          title: "Review and request",
          errorText: form.formError ?? undefined,
          content: <ReviewStep form={form} me={me} />,
        },
      ]}
    />
  );
}
