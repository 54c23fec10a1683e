import type { CodegenConfig } from "@graphql-codegen/cli";

// Types come from the server's exported schema; a document that disagrees with it fails
// codegen, and so `npm run build`.
const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/graphql/**/*.graphql"],
  generates: {
    "src/graphql/generated/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { DateTime: "string", JSON: "unknown" },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
  ignoreNoDocuments: false,
};
export default config;
