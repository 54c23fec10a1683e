/** Turn the typed error members of a mutation's result union into messages per form field. */

export interface ResultError {
  __typename: string;
  message: string;
  field?: string | null;
}

export function isResultError(value: { __typename?: string } | null | undefined): value is ResultError {
  return !!value && typeof value.__typename === "string" && value.__typename.endsWith("Error") && "message" in value;
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
};
