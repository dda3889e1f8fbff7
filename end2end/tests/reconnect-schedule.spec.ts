// With the server down for a minute, the widget retries on the documented schedule (3 s, then
// 6, 12, 24 s, each after the first with up to 25 % jitter) and never says "Connected": a
// socket the browser failed to open is not a connection.
import { test, expect } from "@playwright/test";
import { serveFromMemoryWhenDown, withLocalNetworkAccess } from "./support/offline";
import { startServer } from "./support/server";
import { openPanel } from "./support/widget";

test.use(withLocalNetworkAccess());

test("the server down for a minute: the documented back-off, and never Connected", async ({ page }) => {
  test.setTimeout(150_000);
  const server = await startServer();
  try {
    await serveFromMemoryWhenDown(page);
    const attempts: number[] = [];
    page.on("websocket", () => attempts.push(Date.now()));
    await openPanel(page, server.url);
    const status = page.getByRole("status", { name: /Connected|Offline/ });

    await server.stop();
    const stopped = Date.now();
    await expect(page.getByRole("status", { name: "Offline" })).toBeVisible({ timeout: 5_000 });
    // From now on, any moment the badge says Connected is remembered.
    await page.evaluate(() => {
      (window as any).__sawConnected = false;
      setInterval(() => {
        const badge = document.querySelector("[role=status].status-icon");
        if (badge?.getAttribute("aria-label") === "Connected") (window as any).__sawConnected = true;
      }, 50);
    });
    const before = attempts.length;
    await page.waitForTimeout(60_000 - (Date.now() - stopped));
    const retries = attempts.slice(before);
    const gaps = retries.slice(1).map((at, i) => (at - retries[i]) / 1000);
    console.log(`retries after the stop: ${retries.map((at) => ((at - stopped) / 1000).toFixed(1)).join(", ")} s`);
    // 3 + 6 + 12 + 24 = 45 s: four attempts within the minute, the fifth only after it.
    expect(retries).toHaveLength(4);
    expect((retries[0] - stopped) / 1000).toBeGreaterThan(2.5);
    expect((retries[0] - stopped) / 1000).toBeLessThan(5);
    const planned = [6, 12, 24];
    gaps.forEach((gap, i) => {
      expect(gap, `gap ${i + 1}`).toBeGreaterThanOrEqual(planned[i] - 0.2);
      expect(gap, `gap ${i + 1}`).toBeLessThanOrEqual(planned[i] * 1.25 + 1);
    });
    expect(await page.evaluate(() => (window as any).__sawConnected)).toBe(false);
    await expect(status).toHaveAttribute("aria-label", "Offline");

    // Back up: the next attempt connects.
    await server.start();
    await expect(page.getByRole("status", { name: "Connected" })).toBeVisible({ timeout: 40_000 });
  } finally {
    await server.stop();
  }
});
