import Box from "@cloudscape-design/components/box";

/** A table's or a chart's empty, not-allowed or not-configured state: a header and a sentence. */
export function EmptyState({ header, text }: { header: string; text: string }) {
  return (
    <Box textAlign="center" color="inherit" padding="m">
      <b>{header}</b>
      <Box variant="p" color="inherit">
        {text}
      </Box>
    </Box>
  );
}
