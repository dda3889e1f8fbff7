// Helpers shared by the widget specs: open the widget the way a person would.
import { expect, Page } from "@playwright/test";

/** Opens /widget-test, expands the widget and waits until it reports Connected. */
export async function openPanel(page: Page, baseUrl: string): Promise<void> {
  await page.goto(baseUrl + "/widget-test");
  await expect(page.getByRole("heading", { name: "AXE Test Mode" })).toBeVisible();
  // The button only responds once hydrated; retry the click until the panel appears.
  await expect(async () => {
    await page.getByRole("button", { name: "Open AXE assistant" }).click({ timeout: 1_000 });
    await expect(page.getByRole("region", { name: "AXE assistant" })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.getByRole("status", { name: "Connected" })).toBeVisible();
}

/** Types `text` into the message box and presses Enter. */
export async function sendMessage(page: Page, text: string): Promise<void> {
  const input = page.getByRole("textbox", { name: "Message AXE" });
  await input.fill(text);
  await input.press("Enter");
}
