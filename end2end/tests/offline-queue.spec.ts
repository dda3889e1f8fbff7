// Nothing made offline is lost: with the server stopped, a diff decision and file edits wait in
// the outbox (shown as pending), survive a reload, and reach the server once each, in order,
// when it returns; the conversation comes back after the reload. Edits of one file made while
// none of them could be sent travel as one (the latest holds them all).
//
// The host page must still load while AXE's server is down, as it would when the widget is
// embedded in someone else's site: the test serves the page's files from what it saw earlier
// once the server stops answering. The WebSocket itself is never intercepted.
import { test, expect } from "@playwright/test";
import { serveFromMemoryWhenDown, withLocalNetworkAccess } from "./support/offline";
import { startServer } from "./support/server";
import { credentials, exportSession, openPanel, sendMessage } from "./support/widget";

test.use(withLocalNetworkAccess());

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
    // 2. Two edits, each synced (debounced) on its own: the second absorbs the first, which
    // could not be sent either.
    const queuedIds = () =>
      page.evaluate(
        (key) => JSON.parse(localStorage.getItem(key) ?? "{}").pending.map((p: { id: string }) => p.id) as string[],
        `axe.outbox.${session}`,
      );
    await code.click();
    await page.keyboard.press("Control+End");
    await page.keyboard.type("// first offline edit\n");
    await expect(pending).toHaveText("2", { timeout: 10_000 });
    const afterFirst = await queuedIds();
    await page.keyboard.type("// second offline edit\n");
    await expect.poll(queuedIds, { timeout: 10_000 }).not.toEqual(afterFirst);
    await expect(pending).toHaveText("2");
    const queued = await queuedIds();
    expect(queued).toHaveLength(2);

    // A reload while the server is still down: the queue is still there, and still pending.
    await page.reload();
    await expect(async () => {
      await page.getByRole("button", { name: "Open AXE assistant" }).click({ timeout: 1_000 });
      await expect(page.getByRole("region", { name: "AXE assistant" })).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 20_000 });
    await expect(page.getByRole("status", { name: "Offline" })).toBeVisible();
    await expect(pending).toHaveText("2");
    // What the tab showed is back at once, before the server is.
    await expect(page.locator("li.msg.user")).toContainText("write a fibonacci function");

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
    const [decision, edit] = queued;
    expect(exported.processed.filter((id: string) => queued.includes(id)).sort()).toEqual([...queued].sort());
    expect(exported.diffs).toEqual([{ diff_id: expect.any(String), status: "applied" }]);
    const versions = exported.file_versions.filter((v: { file_id: string }) => v.file_id === "main");
    expect(versions.map((v: { cause: string }) => v.cause).slice(1)).toEqual([exported.diffs[0].diff_id, edit]);
    expect(versions[2].content).toContain("// first offline edit");
    expect(versions[2].content).toContain("// second offline edit");
    expect(versions[2].content).toContain("pub fn fibonacci(n: u32) -> u64");
    expect(decision).toBeTruthy();
  } finally {
    await server.stop();
  }
});
