import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfirmWithText } from "./ConfirmWithText";
import { TextAction } from "./TextAction";
import { resultMessage } from "../lib/errors";

afterEach(cleanup);

function textarea(label: string): HTMLTextAreaElement {
  return screen.getByLabelText(label, { selector: "textarea" }) as HTMLTextAreaElement;
}

describe("ConfirmWithText", () => {
  it("shows a labelled text field and confirms", () => {
    const onConfirm = vi.fn();
    const onChange = vi.fn();
    render(
      <ConfirmWithText
        visible
        header="Revoke access"
        label="Reason"
        confirmText="Revoke"
        value=""
        onChange={onChange}
        onConfirm={onConfirm}
        onDismiss={() => {}}
      />,
    );
    fireEvent.change(textarea("Reason"), { target: { value: "done" } });
    expect(onChange).toHaveBeenCalledWith("done");
    fireEvent.click(screen.getByRole("button", { name: "Revoke" }));
    expect(onConfirm).toHaveBeenCalled();
  });
});

describe("TextAction", () => {
  it("refuses an empty required text, shows the server's error, and closes on success", async () => {
    const run = vi.fn().mockResolvedValueOnce("not allowed").mockResolvedValueOnce(null);
    render(
      <TextAction header="Extend access" label="Reason" confirmText="Request extension" required run={run}>
        Extend
      </TextAction>,
    );
    fireEvent.click(screen.getByRole("button", { name: "Extend" }));
    fireEvent.click(screen.getByRole("button", { name: "Request extension" }));
    await screen.findByText("Reason is required.");
    expect(run).not.toHaveBeenCalled();
    fireEvent.change(textarea("Reason"), { target: { value: " incident " } });
    fireEvent.click(screen.getByRole("button", { name: "Request extension" }));
    await screen.findByText("not allowed");
    expect(run).toHaveBeenLastCalledWith("incident");
    fireEvent.click(screen.getByRole("button", { name: "Request extension" }));
    await waitFor(() => expect(run).toHaveBeenCalledTimes(2));
    await waitFor(() => expect(textarea("Reason").value).toBe(""));
  });
});

describe("resultMessage", () => {
  it("reads typed errors, transport errors and success", () => {
    expect(resultMessage({ data: { x: { __typename: "Extension" } } }, "x")).toBeNull();
    expect(resultMessage({ data: { x: { __typename: "NotAllowedError", message: "no" } } }, "x")).toBe("no");
    expect(resultMessage({ error: { message: "down" } }, "x")).toBe("down");
  });
});
