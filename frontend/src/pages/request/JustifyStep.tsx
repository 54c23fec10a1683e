import Checkbox from "@cloudscape-design/components/checkbox";
import Container from "@cloudscape-design/components/container";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Textarea from "@cloudscape-design/components/textarea";
import type { RequestForm } from "./useRequestForm";

/** Step 4: the justification, an external reference, and break-glass where every rule allows it. */
export function JustifyStep({ form }: { form: RequestForm }) {
  const { values, facts, errors, set } = form;
  return (
    <Container header={<Header variant="h2">Justification</Header>}>
      <SpaceBetween size="l">
        <FormField
          label="Justification"
          description={
            facts.justificationRequired ? "Required by the approval rule." : "Optional for the chosen targets."
          }
          errorText={errors.justification}
          stretch
        >
          <Textarea
            value={values.justification}
            onChange={(e) => set("justification", e.detail.value)}
            ariaLabel="Justification"
            placeholder="What you need the access for"
          />
        </FormField>
        <FormField
          label="External reference"
          description="A change or incident number."
          errorText={errors.externalRef}
          constraintText="Optional"
        >
          <Input
            value={values.externalRef}
            onChange={(e) => set("externalRef", e.detail.value)}
            ariaLabel="External reference"
          />
        </FormField>
        {facts.breakGlassAllowed && (
          <FormField
            label="Break-glass"
            description="For emergencies: approve this ticket yourself. Access is granted at once and an approver reviews it afterwards."
          >
            <Checkbox
              checked={values.breakGlass}
              onChange={(e) => set("breakGlass", e.detail.checked)}
              ariaLabel="Use break-glass"
            >
              Use break-glass
            </Checkbox>
          </FormField>
        )}
        {facts.useBreakGlass && (
          <FormField
            label="Break-glass reason"
            description="Kept in the audit trail and shown to the reviewer."
            errorText={errors.breakGlassReason}
            stretch
          >
            <Textarea
              value={values.breakGlassReason}
              onChange={(e) => set("breakGlassReason", e.detail.value)}
              ariaLabel="Break-glass reason"
              placeholder="The incident you are handling"
            />
          </FormField>
        )}
      </SpaceBetween>
    </Container>
  );
}
