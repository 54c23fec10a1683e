/** Delegation helpers: split by direction and check the create form before it is sent. */

export interface DelegationLike {
  delegator?: { id: string } | null;
  delegate?: { id: string } | null;
}

export function splitDelegations<T extends DelegationLike>(all: T[], meId: string): { given: T[]; received: T[] } {
  return {
    given: all.filter((d) => d.delegator?.id === meId),
    received: all.filter((d) => d.delegate?.id === meId && d.delegator?.id !== meId),
  };
}

export interface DelegationForm {
  delegateId: string | null;
  endDate: string;
  endTime: string;
  reason: string;
}

/** Field errors for the create form; `endsAt` is the ISO end when the date and time are valid. */
export function checkDelegationForm(
  form: DelegationForm,
  meId: string,
  now: Date,
  toIso: (date: string, time: string) => string | null,
): { errors: Record<string, string>; endsAt: string | null } {
  const errors: Record<string, string> = {};
  if (!form.delegateId) errors.delegateId = "Choose who may decide in your name.";
  else if (form.delegateId === meId) errors.delegateId = "You cannot delegate to yourself.";
  const endsAt = toIso(form.endDate, form.endTime || "23:59");
  if (!endsAt) errors.endsAt = "Enter the date the delegation ends.";
  else if (new Date(endsAt) <= now) errors.endsAt = "The end must be in the future.";
  if (!form.reason.trim()) errors.reason = "Say why, for the audit trail.";
  return { errors, endsAt };
}
