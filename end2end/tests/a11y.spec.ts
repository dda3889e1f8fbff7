// Deque's axe-core on every view of the widget: minimized, the panel with a reply, the canvas,
// and the diff review. No serious or critical violation; the widget's keyboard behaviour:
// focus moves into the panel when it opens and back to the button when it closes; Esc closes.
import { expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { test } from "./support/fixtures";
import { openPanel, sendMessage } from "./support/widget";

async function seriousViolations(page: Page, view: string): Promise<string[]> {
  const results = await new AxeBuilder({ page }).include("[data-axe]").analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${view}: ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join("; ")}`);
}

test("every view passes axe-core, and the keyboard can open, use and close the widget", async ({ page, server }) => {
  test.setTimeout(90_000);
  await page.goto(server.url + "/widget-test");
  const button = page.getByRole("button", { name: "Open AXE assistant" });
  await expect(button).toBeVisible();
  const found = await seriousViolations(page, "minimized");

  // Opening moves focus into the panel; a reply arrives.
  await button.focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("status", { name: "Connected" })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByRole("textbox", { name: "Message AXE" })).toBeFocused();
  await sendMessage(page, "hello");
  await expect(page.locator("li.msg.assistant").last()).toContainText("hello");
  // The reply has ended (until then the widget takes no new message).
  await expect(page.getByRole("button", { name: "Stop" })).toBeHidden({ timeout: 20_000 });
  found.push(...(await seriousViolations(page, "panel")));

  // Esc closes; focus returns to the button.
  await page.keyboard.press("Escape");
  await expect(page.getByRole("region", { name: "AXE assistant" })).toBeHidden();
  await expect(page.getByRole("button", { name: "Open AXE assistant" })).toBeFocused();

  // The canvas, and its diff review.
  await openPanel(page, server.url);
  await page.getByRole("button", { name: "Maximize to canvas" }).click();
  await expect(page.getByRole("textbox", { name: "Code editor" })).toContainText("fn main()", { timeout: 20_000 });
  found.push(...(await seriousViolations(page, "canvas")));
  await sendMessage(page, "write a function");
  await expect(page.getByRole("dialog", { name: /Proposed change to main.rs/ })).toBeVisible({ timeout: 20_000 });
  found.push(...(await seriousViolations(page, "diff")));

  for (const violation of found) console.log(violation);
  expect(found).toEqual([]);
});
