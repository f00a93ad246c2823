import { defineConfig } from "vitest/config";

// Unit tests of the TypeScript libraries, with the golden vectors the Python
// implementation writes (tests/web/golden.py regenerates them).
export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "apps/*/test/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
  },
});
