import { type ReactNode } from "react";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import FormField from "@cloudscape-design/components/form-field";
import Modal from "@cloudscape-design/components/modal";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Textarea from "@cloudscape-design/components/textarea";

export interface ConfirmWithTextProps {
  visible: boolean;
  header: string;
  /** The label of the text field, e.g. "Comment" or "Reason"; also its aria label. */
  label: string;
  description?: string;
  confirmText: string;
  value: string;
  onChange: (value: string) => void;
  onConfirm: () => void;
  onDismiss: () => void;
  busy?: boolean;
  /** Shown under the field, e.g. a server's validation message. */
  errorText?: string;
  /** Extra content above the text field. */
  children?: ReactNode;
}

/** A confirmation dialog that asks for a comment or reason before an action. */
export function ConfirmWithText(props: ConfirmWithTextProps) {
  return (
    <Modal
      visible={props.visible}
      onDismiss={props.onDismiss}
      header={props.header}
      footer={
        <Box float="right">
          <SpaceBetween direction="horizontal" size="xs">
            <Button variant="link" onClick={props.onDismiss}>
              Back
            </Button>
            <Button variant="primary" loading={props.busy} onClick={props.onConfirm}>
              {props.confirmText}
            </Button>
          </SpaceBetween>
        </Box>
      }
    >
      <SpaceBetween size="m">
        {props.children}
        <FormField label={props.label} description={props.description} errorText={props.errorText} stretch>
          <Textarea value={props.value} onChange={(e) => props.onChange(e.detail.value)} ariaLabel={props.label} />
        </FormField>
      </SpaceBetween>
    </Modal>
  );
}
