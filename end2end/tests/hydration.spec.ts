// The landing page is rendered on the server and becomes interactive once the wasm hydrates it.
import { test, expect } from "./support/fixtures";

test("the landing page hydrates and its button responds", async ({ page, server }) => {
  await page.goto(server.url + "/");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("AXE");
  const button = page.getByRole("button", { name: /Pressed 0 times/ });
  await expect(button).toBeVisible();
  // Clicking changes the text only once the wasm has loaded and hydrated the page.
  await expect(async () => {
    await button.click();
    await expect(page.getByRole("button", { name: /Pressed [1-9]\d* times/ })).toBeVisible({ timeout: 500 });
  }).toPass({ timeout: 15_000 });
});
