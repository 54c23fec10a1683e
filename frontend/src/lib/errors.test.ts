import { describe, expect, it } from "vitest";
import { fieldKey, isResultError, REQUEST_FIELD_STEP, toFieldErrors } from "./errors";

const FIELDS = Object.keys(REQUEST_FIELD_STEP);

describe("typed errors to form fields", () => {
  it("recognises error members of a result union", () => {
    expect(isResultError({ __typename: "ValidationError", message: "x", field: "justification" } as never)).toBe(true);
    expect(isResultError({ __typename: "Ticket" })).toBe(false);
    expect(isResultError(null)).toBe(false);
  });
  it("puts a field's message on that field", () => {
    const out = toFieldErrors({ __typename: "ValidationError", message: "too long", field: "durationSeconds" }, FIELDS);
    expect(out).toEqual({ fields: { durationSeconds: "too long" }, form: null });
    expect(REQUEST_FIELD_STEP.durationSeconds).toBe(2);
  });
  it("shows target errors on the target table", () => {
    expect(fieldKey("targets[2].accountId")).toBe("targets");
    expect(fieldKey("targets[0]")).toBe("targets");
    const out = toFieldErrors(
      { __typename: "NotAllowedError", message: "not yours", field: "targets[1].permissionSet" },
      FIELDS,
    );
    expect(out.fields).toEqual({ targets: "not yours" });
  });
  it("keeps errors that name no known field for the form", () => {
    expect(toFieldErrors({ __typename: "NotAllowedError", message: "no", field: null }, FIELDS)).toEqual({
      fields: {},
      form: "no",
    });
    expect(toFieldErrors({ __typename: "ValidationError", message: "odd", field: "somethingElse" }, FIELDS)).toEqual({
      fields: {},
      form: "odd",
    });
  });
});
