import Container from "@cloudscape-design/components/container";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import RadioGroup from "@cloudscape-design/components/radio-group";
import type { Me } from "../../app/me";

/** Step 2: who receives the access (the requester, for now). */
export function PrincipalStep({ me }: { me: Me }) {
  return (
    <Container header={<Header variant="h2">Principal</Header>}>
      <FormField label="Request access for" description="Requesting on someone else's behalf arrives with delegation.">
        <RadioGroup
          value="me"
          items={[{ value: "me", label: `Me (${me.user.userName})`, description: me.user.displayName }]}
          ariaLabel="Request access for"
        />
      </FormField>
    </Container>
  );
}
