// Calls a host makes before AXE's loader has arrived (queued in window.AXE) take effect once it
// has, in order; and calls made after the loader but before the widget's code take effect too.
import { test, expect } from "@playwright/test";
import { hostPage, startServer } from "./support/server";

test("calls queued before the loader arrived take effect, in order", async ({ page }) => {
  const server = await startServer();
  try {
    await page.goto(hostPage("queued.html", server));
    // setView("canvas") and setActiveFile(…) were queued: the canvas opens on the host's file.
    const canvas = page.getByRole("region", { name: "AXE canvas" });
    await expect(canvas).toBeVisible({ timeout: 20_000 });
    await expect(canvas.getByRole("status", { name: "Connected" })).toBeVisible({ timeout: 20_000 });
    await expect(canvas.getByText("host.rs (rust)")).toBeVisible();
    await expect(page.getByRole("textbox", { name: "Code editor" })).toContainText("the host's own file");
    // The listener registered before the loader hears the connection.
    await expect.poll(() => page.evaluate(() => (window as any).hostEvents)).toContain("connected");
    // A call after the widget is up goes straight through.
    await page.evaluate(() => (window as any).AXE.close());
    await expect(page.getByRole("button", { name: "Open AXE assistant" })).toBeFocused();
  } finally {
    await server.stop();
  }
});

test("a click and typing before the widget's code arrived are kept", async ({ page }) => {
  const server = await startServer();
  try {
    // The widget's module is held back until the test lets it through.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route("**/embed/widget.js", async (route) => {
      await held;
      await route.continue();
    });
    await page.goto(hostPage("hostile.html", server));
    await page.getByRole("button", { name: "Open AXE assistant" }).click();
    const waiting = page.getByRole("region", { name: "AXE assistant" });
    await expect(waiting).toHaveAttribute("aria-busy", "true");
    await page.getByRole("textbox", { name: "Message AXE" }).pressSequentially("typed while loading");
    release();
    await expect(page.getByRole("status", { name: "Connected" })).toBeVisible({ timeout: 20_000 });
    await expect(page.getByRole("textbox", { name: "Message AXE" })).toHaveValue("typed while loading");
    await expect(page.getByRole("textbox", { name: "Message AXE" })).toBeFocused();
  } finally {
    await server.stop();
  }
});
