// Canvas: the 40/60 split and the badge; a rejected diff leaves the editor, an applied one
// changes it (and the server has the change too).
import { test, expect } from "./support/fixtures";
import { openPanel, sendMessage } from "./support/widget";

test("reject then apply a diff in the canvas", async ({ page, server }) => {
  await openPanel(page, server.url);
  await page.getByRole("button", { name: "Maximize to canvas" }).click();
  const canvas = page.getByRole("region", { name: "AXE canvas" });
  await expect(canvas).toBeVisible();
  await expect(canvas.getByRole("status")).toHaveText("Connected");

  const whole = (await canvas.boundingBox())!;
  const chat = (await canvas.locator(".canvas-chat").boundingBox())!;
  const editor = (await canvas.locator(".canvas-editor").boundingBox())!;
  expect(Math.abs(chat.width / whole.width - 0.4)).toBeLessThan(0.01);
  expect(Math.abs(editor.width / whole.width - 0.6)).toBeLessThan(0.01);

  // CodeMirror, loaded when the canvas opens: its editing area is a named textbox.
  const code = page.getByRole("textbox", { name: "Code editor" });
  await expect(code).toContainText("fn main()");
  const before = await code.innerText();

  await sendMessage(page, "write a function");
  const overlay = page.getByRole("dialog", { name: /Proposed change to main.rs/ });
  await expect(overlay).toBeVisible();
  await expect(overlay.locator("tr.add").first()).toBeVisible();
  await overlay.getByRole("button", { name: "Reject all" }).click();
  await expect(overlay).toBeHidden();
  expect(await code.innerText()).toBe(before);

  await sendMessage(page, "write a fibonacci function");
  await expect(overlay).toBeVisible();
  await overlay.getByRole("button", { name: "Apply all" }).click();
  await expect(overlay).toBeHidden();
  await expect(code).toContainText("pub fn fibonacci(n: u32) -> u64");
  const after = await code.innerText();
  expect(after.startsWith("// Changes suggested by AXE's offline demo.\n")).toBe(true);
  expect(after).toContain(before.trimEnd());

  // The server has the applied content: the next diff's context shows the applied function.
  await sendMessage(page, "add another function");
  await expect(overlay).toBeVisible();
  const contextLines = await overlay.locator("tr.ctx td.text").allInnerTexts();
  expect(contextLines).toContain("    a");
  await overlay.getByRole("button", { name: "Reject all" }).click();

  // Esc leaves the canvas for the panel.
  await page.keyboard.press("Escape");
  await expect(page.getByRole("region", { name: "AXE assistant" })).toBeVisible();
});
