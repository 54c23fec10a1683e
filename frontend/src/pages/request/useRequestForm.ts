import { useState } from "react";
import type {
  ApprovalRulesQuery,
  RequestableAccountFieldsFragment,
  RequestableTargetsQuery,
} from "../../graphql/generated/graphql";
import { REQUEST_FIELD_STEP, toFieldErrors, type ResultError } from "../../lib/errors";
import { keepOnAccounts, maxDurationFor, targetInput, type TargetFilter } from "../../lib/targets";
import {
  formatDuration,
  localDateTimeToIso,
  startInput,
  toSeconds,
  type DurationUnit,
  type StartMode,
} from "../../lib/time";

export type Requestable = RequestableTargetsQuery["requestableTargets"][number];
export type ApprovalRule = ApprovalRulesQuery["approvalRules"][number];
export type StepErrors = Record<string, string>;

/** The wizard's steps, in order; validation and server errors name them by index. */
export const STEPS = ["targets", "principal", "window", "justify", "review"] as const;
const FIELDS = Object.keys(REQUEST_FIELD_STEP);

/** What the requester has entered. */
export interface RequestValues {
  selected: Requestable[];
  startMode: StartMode;
  startDate: string;
  startTime: string;
  amount: string;
  unit: DurationUnit;
  justification: string;
  externalRef: string;
  breakGlass: boolean;
  breakGlassReason: string;
}

export const INITIAL_VALUES: RequestValues = {
  selected: [],
  startMode: "now",
  startDate: "",
  startTime: "",
  amount: "1",
  unit: "hours",
  justification: "",
  externalRef: "",
  breakGlass: false,
  breakGlassReason: "",
};

/** What follows from the values and the approval rules that govern the chosen targets. */
export interface RequestFacts {
  /** The tightest longest duration among the chosen targets, or null before any is chosen. */
  cap: number | null;
  durationSeconds: number;
  justificationRequired: boolean;
  /** The approval rules governing the chosen targets. */
  rules: ApprovalRule[];
  breakGlassAllowed: boolean;
  /** Break-glass asked for and allowed. */
  useBreakGlass: boolean;
  /** The chosen start time ("later" only), or null. */
  startIso: string | null;
}

export function requestFacts(values: RequestValues, approvalRules: readonly ApprovalRule[]): RequestFacts {
  const { selected } = values;
  const ruleNames = [...new Set(selected.map((t) => t.ruleName))];
  const rules = approvalRules.filter((r) => ruleNames.includes(r.name));
  // Offered only when every governing rule allows it and some step would otherwise ask someone; the server checks again.
  const breakGlassAllowed =
    rules.length > 0 && rules.every((r) => r.breakGlass) && rules.some((r) => r.steps.length > 0);
  return {
    cap: maxDurationFor(selected),
    durationSeconds: toSeconds(Number(values.amount), values.unit),
    justificationRequired: selected.some((t) => t.justificationRequired),
    rules,
    breakGlassAllowed,
    useBreakGlass: values.breakGlass && breakGlassAllowed,
    startIso: values.startMode === "later" ? localDateTimeToIso(values.startDate, values.startTime) : null,
  };
}

/** Client-side checks for one step (0-based); the server checks everything again. */
export function validateStep(
  step: number,
  values: RequestValues,
  facts: RequestFacts,
  now: Date = new Date(),
): StepErrors {
  const e: StepErrors = {};
  if (step === 0 && !values.selected.length) e.targets = "Choose at least one account and permission set.";
  if (step === 2) {
    if (!(Number(values.amount) > 0)) e.durationSeconds = "Enter a duration greater than zero.";
    else if (facts.cap !== null && facts.durationSeconds > facts.cap)
      e.durationSeconds = `At most ${formatDuration(facts.cap)} for the chosen targets.`;
    if (values.startMode === "later") {
      if (!facts.startIso) e.startAt = "Enter a date and a time.";
      else if (new Date(facts.startIso) < now) e.startAt = "Choose a time in the future.";
    }
  }
  if (step === 3 && facts.justificationRequired && !values.justification.trim())
    e.justification = "A justification is required by the approval rule.";
  if (step === 3 && facts.useBreakGlass && !values.breakGlassReason.trim())
    e.breakGlassReason = "Break-glass needs a reason.";
  return e;
}

/** The first step (before the review) with errors, and its errors; null when all pass. */
export function firstInvalidStep(
  values: RequestValues,
  facts: RequestFacts,
  now: Date = new Date(),
): { step: number; errors: StepErrors } | null {
  for (let step = 0; step < STEPS.length - 1; step++) {
    const errors = validateStep(step, values, facts, now);
    if (Object.keys(errors).length) return { step, errors };
  }
  return null;
}

/** The `requestTicket` input for the values. */
export function requestInput(values: RequestValues, facts: RequestFacts) {
  return {
    targets: values.selected.map(targetInput),
    durationSeconds: facts.durationSeconds,
    justification: values.justification,
    externalRef: values.externalRef || null,
    ...startInput(values.startMode, facts.startIso),
    // Approved by break-glass in the same call: a refusal makes no ticket.
    breakGlassReason: facts.useBreakGlass ? values.breakGlassReason.trim() : null,
  };
}

/**
 * The request wizard's state: the chosen accounts, the target filter, what the requester
 * entered, the current step, and the errors shown on it. It lives above the wizard, which
 * renders only the current step, so going back keeps everything.
 */
export function useRequestForm(approvalRules: readonly ApprovalRule[]) {
  const [step, setStep] = useState(0);
  const [accounts, setAccounts] = useState<RequestableAccountFieldsFragment[]>([]);
  const [filter, setFilter] = useState<TargetFilter>({ text: "", ouId: null, tags: [], permissionSets: [] });
  const [values, setValues] = useState<RequestValues>(INITIAL_VALUES);
  const [errors, setErrors] = useState<StepErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  const facts = requestFacts(values, approvalRules);

  const set = <K extends keyof RequestValues>(key: K, value: RequestValues[K]) =>
    setValues((v) => ({ ...v, [key]: value }));

  return {
    step,
    accounts,
    filter,
    values,
    facts,
    errors,
    formError,
    submitting,
    set,
    setFilter,
    /** New accounts: targets on accounts no longer chosen are dropped. */
    chooseAccounts(next: RequestableAccountFieldsFragment[]) {
      setAccounts(next);
      const ids = next.map((a) => a.id);
      setValues((v) => ({ ...v, selected: keepOnAccounts(v.selected, ids) }));
    },
    chooseTargets(selected: Requestable[]) {
      set("selected", selected);
      setErrors((x) => ({ ...x, targets: "" }));
    },
    /** The wizard asks for another step: forward only once the current step passes. */
    navigate(requested: number) {
      if (requested > step) {
        const found = validateStep(step, values, facts);
        setErrors(found);
        if (Object.keys(found).length) return;
      }
      setStep(requested);
    },
    /**
     * Before sending: check every step, and show the first that fails. True when the
     * request may be sent; the form error is cleared then.
     */
    begin(): boolean {
      const invalid = firstInvalidStep(values, facts);
      if (invalid) {
        setErrors(invalid.errors);
        setStep(invalid.step);
        return false;
      }
      setSubmitting(true);
      setFormError(null);
      return true;
    },
    /** The request was answered (whatever the answer). */
    finish() {
      setSubmitting(false);
    },
    /** The request failed as a whole (the network, or no result). */
    fail(message: string) {
      setFormError(message);
    },
    /** A typed error from the server: on its field's step when the wizard has the field, else on the form. */
    refuse(error: ResultError) {
      const mapped = toFieldErrors(error, FIELDS);
      setErrors(mapped.fields);
      setFormError(mapped.form);
      const field = Object.keys(mapped.fields)[0];
      if (field !== undefined) setStep(REQUEST_FIELD_STEP[field]);
    },
  };
}

export type RequestForm = ReturnType<typeof useRequestForm>;
