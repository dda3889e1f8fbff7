// The start page is rendered on the server and needs no wasm: it shows the configuration the
// server runs with, and a few lines of script keep its status current from /readyz. The widget
// waits in its corner, loaded through the script tag like on any host page.
import { test, expect } from "./support/fixtures";

test("the start page reports the server's state and configuration without loading the widget's wasm", async ({ page, server }) => {
  const wasm: string[] = [];
  page.on("request", (request) => {
    if (request.url().endsWith(".wasm")) wasm.push(request.url());
  });
  await page.goto(server.url + "/");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("AXE");
  const status = page.getByRole("status", { name: "Server status" });
  await expect(status).toHaveText("Server ready");
  const configuration = page.getByRole("definition");
  await expect(configuration.first()).toContainText("offline demo");
  await expect(configuration.nth(1)).toContainText("SQLite");
  await expect(page.getByRole("button", { name: "Open AXE assistant" })).toBeVisible();
  await page.waitForLoadState("networkidle");
  expect(wasm).toEqual([]);

  // The status is what /readyz says (asked at once and every 10 s): shutting down, say.
  await page.route("**/readyz", (route) => route.fulfill({ status: 503, body: "shutting down" }));
  await page.reload();
  await expect(status).toHaveText("Server is shutting down");

  await expect(page.getByRole("link", { name: "Canvas" })).toHaveAttribute("href", "/canvas");
  await page.unroute("**/readyz");
  await page.getByRole("link", { name: "Chat panel" }).click();
  await expect(page.getByRole("region", { name: "AXE assistant" })).toBeVisible();
});
