// Nothing made offline is lost: with the server stopped, a diff decision and two file edits
// wait in the outbox (shown as pending), survive a reload, and reach the server once each, in
// order, when it returns; the conversation comes back from the server after the reload.
//
// The host page must still load while AXE's server is down, as it would when the widget is
// embedded in someone else's site: the test serves the page's files from what it saw earlier
// once the server stops answering. The WebSocket itself is never intercepted.
import { test, expect, Page } from "@playwright/test";
import config from "../playwright.config";
import { startServer } from "./support/server";
import { credentials, exportSession, openPanel, sendMessage } from "./support/widget";

// A page the test fulfils itself has no network address, so Chromium's Local Network Access
// checks would block its socket to 127.0.0.1; a real embedding page is served from a real host.
const launchOptions = config.use?.launchOptions ?? {};
test.use({
  launchOptions: {
    ...launchOptions,
    args: [...(launchOptions.args ?? []), "--disable-features=LocalNetworkAccessChecks"],
  },
});

/** Passes requests through, remembering each response to serve it again if the server is gone. */
async function serveFromMemoryWhenDown(page: Page): Promise<void> {
  const seen = new Map<string, { status: number; headers: Record<string, string>; body: Buffer }>();
  await page.route((url) => url.pathname !== "/api/axe/ws" && !url.pathname.startsWith("/api/axe/ws/"), async (route) => {
    const url = route.request().url();
    try {
      const response = await route.fetch();
      const body = await response.body();
      const headers = { ...response.headers() };
      delete headers["content-encoding"];
      delete headers["content-length"];
      seen.set(url, { status: response.status(), headers, body });
      await route.fulfill({ status: response.status(), headers, body });
    } catch {
      const earlier = seen.get(url);
      if (earlier) await route.fulfill(earlier);
      else await route.abort("connectionrefused");
    }
  });
}

test("offline edits and a diff decision survive a reload and are applied once, in order", async ({ page }) => {
  const server = await startServer();
  try {
    await serveFromMemoryWhenDown(page);
    await openPanel(page, server.url);
    await page.getByRole("button", { name: "Maximize to canvas" }).click();
    const code = page.getByRole("textbox", { name: "Code editor" });
    await expect(code).toContainText("fn main()");
    await sendMessage(page, "write a fibonacci function");
    const overlay = page.getByRole("dialog", { name: /Proposed change to main.rs/ });
    await expect(overlay).toBeVisible();
    const session = (await credentials(page)).session_id;

    await server.stop();
    await expect(page.getByRole("status")).toHaveText("Offline", { timeout: 5_000 });
    const pending = page.getByTestId("pending-count");

    // 1. The decision: applied in the editor at once, sent when the server is back.
    await overlay.getByRole("button", { name: "Apply all" }).click();
    await expect(overlay).toBeHidden();
    await expect(code).toContainText("pub fn fibonacci(n: u32) -> u64");
    await expect(pending).toHaveText("1");
    // 2 and 3. Two edits, each synced (debounced) on its own.
    await code.click();
    await page.keyboard.press("Control+End");
    await page.keyboard.type("// first offline edit\n");
    await expect(pending).toHaveText("2", { timeout: 10_000 });
    await page.keyboard.type("// second offline edit\n");
    await expect(pending).toHaveText("3", { timeout: 10_000 });
    const queued: string[] = await page.evaluate(
      (key) => JSON.parse(localStorage.getItem(key) ?? "{}").pending.map((p: { id: string }) => p.id),
      `axe.outbox.${session}`,
    );
    expect(queued).toHaveLength(3);

    // A reload while the server is still down: the queue is still there, and still pending.
    await page.reload();
    await expect(async () => {
      await page.getByRole("button", { name: "Open AXE assistant" }).click({ timeout: 1_000 });
      await expect(page.getByRole("region", { name: "AXE assistant" })).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 20_000 });
    await expect(page.getByRole("status", { name: "Offline" })).toBeVisible();
    await expect(pending).toHaveText("3");

    // The server returns: the queue drains, and the history is back.
    await server.start();
    await expect(page.getByRole("status", { name: "Connected" })).toBeVisible({ timeout: 20_000 });
    await expect(page.getByTestId("pending")).toBeHidden({ timeout: 10_000 });
    await expect(page.locator("li.msg.user")).toContainText("write a fibonacci function");
    await expect(page.locator("li.msg.assistant").first()).toContainText("fibonacci");
    await page.getByRole("button", { name: "Maximize to canvas" }).click();
    await expect(code).toContainText("// second offline edit");
    await expect(code).toContainText("pub fn fibonacci(n: u32) -> u64");
    await expect(overlay).toBeHidden();

    // The server applied each exactly once, in the order they were made.
    const exported = await exportSession(page, server.url);
    const [decision, firstEdit, secondEdit] = queued;
    expect(exported.processed.filter((id: string) => queued.includes(id)).sort()).toEqual([...queued].sort());
    expect(exported.diffs).toEqual([{ diff_id: expect.any(String), status: "applied" }]);
    const versions = exported.file_versions.filter((v: { file_id: string }) => v.file_id === "main");
    expect(versions.map((v: { cause: string }) => v.cause).slice(1)).toEqual([
      exported.diffs[0].diff_id,
      firstEdit,
      secondEdit,
    ]);
    expect(versions[2].content).toContain("// first offline edit");
    expect(versions[2].content).not.toContain("// second offline edit");
    expect(versions[3].content).toContain("// second offline edit");
    expect(versions[3].content).toContain("pub fn fibonacci(n: u32) -> u64");
    expect(decision).toBeTruthy();
  } finally {
    await server.stop();
  }
});
