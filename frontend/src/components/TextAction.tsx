import { useState, type ReactNode } from "react";
import Button, { type ButtonProps } from "@cloudscape-design/components/button";
import { ConfirmWithText } from "./ConfirmWithText";

export interface TextActionProps {
  /** The button's text. */
  children: ReactNode;
  ariaLabel?: string;
  variant?: ButtonProps.Variant;
  disabled?: boolean;
  header: string;
  label: string;
  description?: string;
  confirmText: string;
  /** Whether the text may be empty. */
  required?: boolean;
  /** Runs the action; resolves to an error message to show in the dialog, or null when done. */
  run: (text: string) => Promise<string | null>;
  /** Extra fields above the text. */
  fields?: ReactNode;
  onOpen?: () => void;
}

/** A button that asks for a comment or reason in a dialog, then runs one action. */
export function TextAction(props: TextActionProps) {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [errorText, setErrorText] = useState<string | undefined>();
  const close = () => {
    setOpen(false);
    setText("");
    setErrorText(undefined);
  };
  const confirm = async () => {
    if (props.required && !text.trim()) {
      setErrorText(`${props.label} is required.`);
      return;
    }
    setBusy(true);
    const error = await props.run(text.trim());
    setBusy(false);
    if (error) setErrorText(error);
    else close();
  };
  return (
    <>
      <Button
        variant={props.variant}
        disabled={props.disabled}
        ariaLabel={props.ariaLabel}
        onClick={() => {
          props.onOpen?.();
          setOpen(true);
        }}
      >
        {props.children}
      </Button>
      <ConfirmWithText
        visible={open}
        header={props.header}
        label={props.label}
        description={props.description}
        confirmText={props.confirmText}
        value={text}
        onChange={setText}
        onConfirm={confirm}
        onDismiss={close}
        busy={busy}
        errorText={errorText}
      >
        {props.fields}
      </ConfirmWithText>
    </>
  );
}
