// Replies stream in and can be stopped; a diff's hunks can be taken one by one.
import { test, expect } from "./support/fixtures";
import { openPanel, sendMessage } from "./support/widget";

/** The reply's text without the screen-reader prefix and the status mark. */
async function replyText(entry: import("@playwright/test").Locator): Promise<string> {
  return entry.evaluate((li) => {
    const copy = li.cloneNode(true) as HTMLElement;
    copy.querySelectorAll(".sr-only, .entry-status").forEach((n) => n.remove());
    return copy.textContent ?? "";
  });
}

test("a reply streams in, and Stop keeps what arrived, marked stopped", async ({ page, server }) => {
  await openPanel(page, server.url);
  await sendMessage(page, "tell me about yourself");
  const replies = page.locator("li.msg.assistant");
  const streaming = replies.first();
  // While it streams: the entry says so, and Stop replaces Send.
  await expect(streaming.getByText("Generating…")).toBeVisible();
  const stop = page.getByRole("button", { name: "Stop" });
  await expect(stop).toBeVisible();
  await stop.click();
  await expect(streaming.getByText("Stopped")).toBeVisible();
  await expect(page.getByRole("button", { name: "Send" })).toBeVisible();
  const partial = await replyText(streaming);
  expect(partial).toContain("You wrote");

  // The same question again, left to finish: the stopped reply was only part of it.
  await sendMessage(page, "tell me about yourself");
  const complete = replies.nth(1);
  await expect(complete.getByText("Generating…")).toBeVisible();
  await expect(complete.getByText("Generating…")).toBeHidden({ timeout: 20_000 });
  await expect(complete.locator(".entry-status")).toHaveCount(0);
  const full = await replyText(complete);
  expect(full.length).toBeGreaterThan(partial.length);
  expect(full).toContain("offline demo");
});

test("accepting one of two hunks leaves the editor with exactly that change", async ({ page, server }) => {
  await openPanel(page, server.url);
  await page.getByRole("button", { name: "Maximize to canvas" }).click();
  const code = page.getByRole("textbox", { name: "Code editor" });
  await expect(code).toContainText("fn count_words");
  const before = await code.innerText();

  await sendMessage(page, "write a function");
  const overlay = page.getByRole("dialog", { name: /Proposed change to main.rs/ });
  await expect(overlay).toBeVisible({ timeout: 20_000 });
  await expect(overlay.locator("tbody.hunk")).toHaveCount(2);
  // Hunk 1 is the note at the top, hunk 2 the new function at the end: keep only the function.
  await overlay.getByRole("checkbox", { name: "Accept change 1 of 2" }).uncheck();
  await expect(overlay.getByRole("checkbox", { name: "Accept change 2 of 2" })).toBeChecked();
  await overlay.getByRole("button", { name: "Apply selected" }).click();
  await expect(overlay).toBeHidden();
  await expect(code).toContainText("pub fn add(a: i64, b: i64) -> i64");
  await expect(code).not.toContainText("Changes suggested by AXE's offline demo");
  const after = await code.innerText();
  expect(after.startsWith(before.trimEnd())).toBe(true);
});
