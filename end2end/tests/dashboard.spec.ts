// Observability in the browser: the widget's telemetry reaches the server in batches (and not
// at all when the page opts out); after a burst of reconnects the dashboard shows its plots with
// data points and the alert banner. A screenshot of the dashboard is saved with the results.
import { test, expect, Page } from "@playwright/test";
import { startServer, AxeServer } from "./support/server";
import { sendMessage } from "./support/widget";

/** The widget's batches to the events endpoint, as the page sends them. */
function eventRequests(page: Page): string[] {
  const bodies: string[] = [];
  page.on("request", (request) => {
    if (request.url().endsWith("/api/axe/events")) bodies.push(request.postData() ?? "");
  });
  return bodies;
}

async function openAndChat(page: Page, server: AxeServer, query: string): Promise<void> {
  await page.clock.install();
  await page.goto(`${server.url}/widget-test?view=panel${query}`);
  await expect(page.getByRole("status", { name: "Connected" })).toBeVisible({ timeout: 20_000 });
  await sendMessage(page, "hello telemetry");
  await expect(page.getByRole("button", { name: "Stop" })).toBeHidden({ timeout: 20_000 });
  // The widget sends what it recorded every 10 s.
  await page.clock.runFor(11_000);
}

test("telemetry goes out in batches, and not at all when the page opts out", async ({ page, browser }) => {
  const server = await startServer();
  try {
    const sent = eventRequests(page);
    await openAndChat(page, server, "");
    await expect.poll(() => sent.length).toBeGreaterThan(0);
    const names = sent.flatMap((body) => JSON.parse(body).events.map((e: { name: string }) => e.name));
    for (const name of ["widget_opened", "connected", "message_sent", "message_acked", "reply_first_token", "reply_done"]) {
      expect(names).toContain(name);
    }
    expect(sent.join("")).not.toContain("hello telemetry");

    const quiet = await browser.newPage();
    const none = eventRequests(quiet);
    await openAndChat(quiet, server, "&telemetry=off");
    expect(none).toEqual([]);
    await quiet.close();
  } finally {
    await server.stop();
  }
});

test("after a burst of reconnects the dashboard plots it and raises the alert", async ({ page }, testInfo) => {
  const server = await startServer({ AXE_ALERT_RECONNECTS_PER_MIN: "3" });
  try {
    await page.goto(`${server.url}/widget-test?view=panel`);
    await expect(page.getByRole("status", { name: "Connected" })).toBeVisible({ timeout: 20_000 });
    // A session of the page's own connects and leaves six times in a row.
    const reconnects = await page.evaluate(async (origin) => {
      const grant = await (await fetch(`${origin}/api/axe/sessions`, { method: "POST" })).json();
      const url = `${origin.replace("http", "ws")}/api/axe/ws/${grant.session_id}`;
      let done = 0;
      for (let i = 0; i < 6; i++) {
        const socket = new WebSocket(url, ["axe.v1", `axe.bearer.${grant.token}`]);
        await new Promise((resolve, reject) => {
          socket.onopen = resolve;
          socket.onerror = reject;
        });
        await new Promise((resolve) => {
          socket.onclose = resolve;
          socket.close(1000, "bye");
        });
        done++;
      }
      return done;
    }, server.url);
    expect(reconnects).toBe(6);

    await expect(async () => {
      await page.goto(`${server.url}/dashboard`);
      await expect(page.getByRole("alert")).toContainText("reconnects in a minute", { timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
    const plots = page.locator("figure");
    await expect(plots).toHaveCount(7);
    const connects = page.getByRole("figure", { name: "Connects and reconnects" });
    await expect(connects.locator("polyline").first()).toBeAttached();
    // The connects line has a point above the axis: its points are not all at the bottom.
    const points = await connects.locator("polyline").first().getAttribute("points");
    const ys = points!.trim().split(/\s+/).map((pair) => Number(pair.split(",")[1]));
    expect(new Set(ys).size).toBeGreaterThan(1);
    await page.screenshot({ path: testInfo.outputPath("dashboard.png"), fullPage: true });
    await testInfo.attach("dashboard", { path: testInfo.outputPath("dashboard.png"), contentType: "image/png" });
  } finally {
    await server.stop();
  }
});
