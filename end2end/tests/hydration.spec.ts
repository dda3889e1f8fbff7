// The landing page is rendered on the server and comes alive once the wasm hydrates it: the
// server status is checked from the browser (it says "Checking the server…" until then), and
// the configuration the server runs with is shown.
import { test, expect } from "./support/fixtures";

test("the landing page hydrates and reports the server as ready", async ({ page, server }) => {
  await page.goto(server.url + "/");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("AXE");
  const status = page.getByRole("status", { name: "Server status" });
  await expect(status).toHaveText("Server ready", { timeout: 15_000 });
  const configuration = page.getByRole("definition");
  await expect(configuration.first()).toContainText("offline demo");
  await expect(configuration.nth(1)).toContainText("SQLite");
  await expect(page.getByRole("link", { name: "Canvas" })).toHaveAttribute("href", "/canvas");
  await page.getByRole("link", { name: "Chat panel" }).click();
  await expect(page.getByRole("region", { name: "AXE assistant" })).toBeVisible();
});
