// Playwright settings: Debian's Chromium (no browser download), one worker per core. Host pages
// on a second origin (hosts/, and the React host built by the global setup) are served by one
// static server for the whole run.
import { defineConfig } from "@playwright/test";

/** The second origin's port. */
export const HOST_PORT = Number(process.env.AXE_HOST_PORT ?? 4173);

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 2,
  retries: 0,
  reporter: [["list"]],
  globalSetup: "./tests/support/global-setup.ts",
  webServer: {
    command: "node tests/support/host-server.mjs",
    url: `http://127.0.0.1:${HOST_PORT}/hostile.html`,
    env: { AXE_HOST_PORT: String(HOST_PORT) },
    reuseExistingServer: false,
  },
  use: {
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.AXE_CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
