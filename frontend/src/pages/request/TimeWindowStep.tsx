import Container from "@cloudscape-design/components/container";
import DatePicker from "@cloudscape-design/components/date-picker";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import RadioGroup from "@cloudscape-design/components/radio-group";
import Select, { type SelectProps } from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import TimeInput from "@cloudscape-design/components/time-input";
import { formatDuration, type DurationUnit, type StartMode } from "../../lib/time";
import type { RequestForm } from "./useRequestForm";

const UNITS: SelectProps.Option[] = [
  { value: "minutes", label: "minutes" },
  { value: "hours", label: "hours" },
  { value: "days", label: "days" },
];

/** Step 3: when the window starts (now, when approved, or at a time) and how long it lasts. */
export function TimeWindowStep({ form }: { form: RequestForm }) {
  const { values, facts, errors, set } = form;
  const { cap } = facts;
  return (
    <Container header={<Header variant="h2">Time window</Header>}>
      <SpaceBetween size="l">
        <FormField label="Start" errorText={errors.startAt}>
          <SpaceBetween size="s">
            <RadioGroup
              value={values.startMode}
              onChange={(e) => set("startMode", e.detail.value as StartMode)}
              ariaLabel="Start"
              items={[
                {
                  value: "now",
                  label: "Now",
                  description: "The window starts at the request; time spent waiting for approval comes out of it.",
                },
                {
                  value: "approved",
                  label: "When approved",
                  description: "The whole duration counts from the final approval.",
                },
                { value: "later", label: "At a date and time" },
              ]}
            />
            {values.startMode === "later" && (
              <SpaceBetween direction="horizontal" size="xs">
                <FormField label="Start date" description="YYYY/MM/DD">
                  <DatePicker
                    value={values.startDate}
                    onChange={(e) => set("startDate", e.detail.value)}
                    placeholder="YYYY/MM/DD"
                    ariaLabel="Start date"
                    openCalendarAriaLabel={(d) => `Choose start date${d ? `, selected date is ${d}` : ""}`}
                  />
                </FormField>
                <FormField label="Start time" description="24-hour clock, your local time">
                  <TimeInput
                    value={values.startTime}
                    onChange={(e) => set("startTime", e.detail.value)}
                    format="hh:mm"
                    placeholder="hh:mm"
                    ariaLabel="Start time"
                  />
                </FormField>
              </SpaceBetween>
            )}
          </SpaceBetween>
        </FormField>
        <FormField
          label="Duration"
          description={
            cap !== null
              ? `At most ${formatDuration(cap)}, the tightest limit among the chosen targets' rules.`
              : undefined
          }
          errorText={errors.durationSeconds}
        >
          <SpaceBetween direction="horizontal" size="xs">
            <Input
              type="number"
              inputMode="decimal"
              value={values.amount}
              onChange={(e) => set("amount", e.detail.value)}
              ariaLabel="Duration amount"
            />
            <Select
              selectedOption={UNITS.find((u) => u.value === values.unit) ?? UNITS[1]}
              onChange={(e) => set("unit", e.detail.selectedOption.value as DurationUnit)}
              options={UNITS}
              ariaLabel="Duration unit"
            />
          </SpaceBetween>
        </FormField>
      </SpaceBetween>
    </Container>
  );
}
