// Helpers shared by the widget specs: open the widget the way a person would.
import { expect, Page } from "@playwright/test";

/** Opens /widget-test, expands the widget and waits until it reports Connected. */
export async function openPanel(page: Page, baseUrl: string): Promise<void> {
  await page.goto(baseUrl + "/widget-test");
  await expect(page.getByRole("heading", { name: "AXE Test Mode" })).toBeVisible();
  // The button appears once the loader script has run; retry the click until the panel does.
  await expect(async () => {
    await page.getByRole("button", { name: "Open AXE assistant" }).click({ timeout: 1_000 });
    await expect(page.getByRole("region", { name: "AXE assistant" })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.getByRole("status", { name: "Connected" })).toBeVisible();
}

/**
 * Types `text` into the message box and presses Enter, once Send is enabled: Enter does nothing
 * while the widget is offline or still awaiting the previous reply, so a spec that pressed it
 * then would silently send nothing.
 */
export async function sendMessage(page: Page, text: string): Promise<void> {
  const input = page.getByRole("textbox", { name: "Message AXE" });
  await input.fill(text);
  await expect(page.getByRole("button", { name: "Send", exact: true })).toBeEnabled();
  await input.press("Enter");
}

/** The session and token the widget keeps in localStorage. */
export interface Credentials {
  session_id: string;
  token: string;
  expires_at: number;
}

/** The widget's credentials in `page`. */
export async function credentials(page: Page): Promise<Credentials> {
  const saved = await page.evaluate(() => localStorage.getItem("axe.credentials"));
  expect(saved, "the widget keeps its credentials").not.toBeNull();
  return JSON.parse(saved!);
}

/** Everything the server stored about the page's session, fetched with the page's token. */
export async function exportSession(page: Page, baseUrl: string): Promise<any> {
  const { session_id, token } = await credentials(page);
  const response = await fetch(`${baseUrl}/api/axe/sessions/${session_id}/export`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  return response.json();
}
