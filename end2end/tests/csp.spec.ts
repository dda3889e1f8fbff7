// A host page with the strict Content-Security-Policy the README documents: the widget loads,
// connects, chats and opens the canvas with its editor, and the browser reports no violation.
import { test, expect } from "@playwright/test";
import { hostPage, startServer } from "./support/server";
import { sendMessage } from "./support/widget";

test("the documented CSP is enough: no violation, everything works", async ({ page }) => {
  const server = await startServer();
  try {
    const violations: string[] = [];
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(hostPage("csp.html", server));
    await page.getByRole("button", { name: "Open AXE assistant" }).click();
    await expect(page.getByRole("status", { name: "Connected" })).toBeVisible({ timeout: 20_000 });
    await sendMessage(page, "hello under a strict policy");
    await expect(page.locator("li.msg.assistant").last()).toContainText("hello under a strict policy");
    await expect(page.getByRole("button", { name: "Stop" })).toBeHidden({ timeout: 20_000 });
    await page.getByRole("button", { name: "Maximize to canvas" }).click();
    await expect(page.getByRole("textbox", { name: "Code editor" })).toContainText("fn main()", { timeout: 20_000 });
    expect(violations).toEqual([]);
  } finally {
    await server.stop();
  }
});
