// The server goes away and comes back: Offline with Send disabled, then Connected by itself.
import { test, expect } from "@playwright/test";
import { startServer } from "./support/server";
import { openPanel, sendMessage } from "./support/widget";

test("the widget goes offline when the server stops and recovers when it returns", async ({ page }) => {
  const server = await startServer();
  try {
    await openPanel(page, server.url);
    const input = page.getByRole("textbox", { name: "Message AXE" });
    await input.fill("queued draft");
    const send = page.getByRole("button", { name: "Send" });
    await expect(send).toBeEnabled();

    await server.stop();
    await expect(page.getByRole("status", { name: "Offline" })).toBeVisible({ timeout: 5_000 });
    await expect(send).toBeDisabled();
    await expect(page.getByText("⚠ Reconnecting to server...")).toBeVisible();

    await server.start();
    await expect(page.getByRole("status", { name: "Connected" })).toBeVisible({ timeout: 20_000 });
    await expect(send).toBeEnabled();
    await sendMessage(page, "back online");
    await expect(page.locator("li.msg.assistant")).toContainText("back online");
  } finally {
    await server.stop();
  }
});
