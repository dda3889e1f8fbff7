// Benchmarks in the browser (not part of the test command; `scripts/bench-open.sh` runs them):
// the same Chromium settings as the specs, one worker so runs do not compete for the 2 cores.
import { defineConfig } from "@playwright/test";
import specs from "./playwright.config";

export default defineConfig({
  ...specs,
  testDir: "./bench",
  testMatch: "**/*.bench.ts",
  timeout: 600_000,
  workers: 1,
  globalSetup: undefined,
  webServer: undefined,
  use: { ...specs.use, trace: "off" },
});
