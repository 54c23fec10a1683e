// ESLint for the console: typescript-eslint's recommended rules, React's rules of hooks, and
// eslint-config-prettier last, so formatting is prettier's alone (`npm run lint` checks both).
import Module, { createRequire } from "node:module";
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";

// `tsc -b` is TypeScript 7, the native compiler, which has no JavaScript API yet; typescript-eslint
// parses with TypeScript 6's, which Microsoft ships side by side as @typescript/typescript6. Point
// typescript-eslint's `require("typescript")` at it (package.json's override only settles its peer
// range). Delete this, the override and @typescript/typescript6 once typescript-eslint supports 7.
const require = createRequire(import.meta.url);
const typescript6 = require.resolve("@typescript/typescript6");
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolveFilename.call(this, request === "typescript" ? typescript6 : request, ...rest);
};
const { default: tseslint } = await import("typescript-eslint");

export default tseslint.config(
  { ignores: ["dist/", "artifacts/", "src/graphql/generated/"] },
  { linterOptions: { reportUnusedDisableDirectives: "error" } },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ["src/**/*.{ts,tsx}"],
    languageOptions: { globals: globals.browser },
    plugins: { "react-hooks": reactHooks },
    rules: {
      "react-hooks/rules-of-hooks": "error",
      "react-hooks/exhaustive-deps": "error",
    },
  },
  {
    files: ["*.{js,ts}"],
    languageOptions: { globals: globals.node },
  },
  {
    // The browser scripts run in Node, and their page.evaluate callbacks in the page, where
    // support.mjs injects axe-core.
    files: ["e2e/**/*.mjs"],
    languageOptions: { globals: { ...globals.node, ...globals.browser, axe: "readonly" } },
  },
  prettier,
);
