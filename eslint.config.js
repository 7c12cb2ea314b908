import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // bench/results holds benchmark output and device bundles, git-ignored like dist.
  { ignores: ["**/dist/**", "**/node_modules/**", "**/fixtures/**", "**/testcases/**", "bench/results/**", "resourcemonitor-data/**"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: {
      globals: { process: "readonly", console: "readonly", setTimeout: "readonly", clearTimeout: "readonly", URL: "readonly", fetch: "readonly", AbortController: "readonly", performance: "readonly" },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
    },
  },
);
