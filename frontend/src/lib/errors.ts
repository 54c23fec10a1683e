/** Turn the typed error members of a mutation's result union into messages per form field. */

export interface ResultError {
  __typename: string;
  message: string;
  field?: string | null;
}

export function isResultError(value: { __typename?: string } | null | undefined): value is ResultError {
  return !!value && typeof value.__typename === "string" && value.__typename.endsWith("Error") && "message" in value;
}

type Outcome<T> = { data?: T; error?: { message: string } };

/** The message to show for a mutation whose result is a union with typed errors, or null on success. */
export function resultMessage<T extends Record<string, unknown>>(res: Outcome<T>, key: keyof T): string | null {
  const out = res.data?.[key] as { __typename?: string; message?: string } | undefined;
  if (res.error || !out) return res.error?.message ?? "The request failed.";
  if (isResultError(out as { __typename?: string })) return out.message ?? "Not allowed.";
  return null;
}

export interface FieldErrors {
  /** Keyed by the wizard's field names (targets, durationSeconds, startAt, justification, externalRef, principalId). */
  fields: Record<string, string>;
  /** Errors that name no known field: shown at the top of the form. */
  form: string | null;
}

/** "targets[2].accountId" -> "targets": the wizard shows target errors on the target table. */
export function fieldKey(field: string | null | undefined): string | null {
  if (!field) return null;
  const head = field.split(/[.[]/)[0];
  return head || null;
}

export function toFieldErrors(error: ResultError, knownFields: readonly string[]): FieldErrors {
  const key = fieldKey(error.field);
  if (key && knownFields.includes(key)) return { fields: { [key]: error.message }, form: null };
  return { fields: {}, form: error.message };
}

/** Which wizard step (0-based) owns a field, so the wizard can jump back to it. */
export const REQUEST_FIELD_STEP: Record<string, number> = {
  targets: 0,
  principalId: 1,
  startAt: 2,
  durationSeconds: 2,
  justification: 3,
  externalRef: 3,
  breakGlassReason: 3,
};
