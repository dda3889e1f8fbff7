// The `test` every spec uses: Playwright's, plus `server`, a real AXE server started once per
// worker (on the worker's own port) and stopped when the worker ends.
import { test as base } from "@playwright/test";
import { startServer, AxeServer } from "./server";

export const test = base.extend<{}, { server: AxeServer }>({
  server: [
    async ({}, use) => {
      const server = await startServer();
      await use(server);
      await server.stop();
    },
    { scope: "worker" },
  ],
});

export { expect } from "@playwright/test";
