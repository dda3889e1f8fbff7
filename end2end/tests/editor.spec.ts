// The canvas's editor: loaded (with the canvas's wasm chunk) only when the canvas opens; line
// numbers, highlighting, Tab and undo; edits reach the server as one `file_updated` after typing
// stops.
import { WebSocket } from "@playwright/test";
import { test, expect } from "./support/fixtures";
import { openPanel, sendMessage } from "./support/widget";

test("the canvas's wasm chunk and editor module load only when the canvas opens", async ({ page, server }) => {
  const canvasRequests: string[] = [];
  page.on("request", (request) => {
    const url = request.url();
    if (url.includes("/editor/axe-editor.js") || url.includes("/pkg/split_")) canvasRequests.push(url);
  });
  await openPanel(page, server.url);
  // A reply that proposes a change reaches the panel too; taking it needs none of the canvas's
  // code (the change is shown once the canvas opens).
  await sendMessage(page, "write a function");
  await expect(page.locator("li.msg.assistant").last()).toContainText("pub fn", { timeout: 20_000 });
  await expect(page.getByRole("button", { name: "Send", exact: true })).toBeVisible();
  expect(canvasRequests).toEqual([]);
  await page.getByRole("button", { name: "Maximize to canvas" }).click();
  await expect(page.getByRole("textbox", { name: "Code editor" })).toBeVisible();
  await expect(page.getByRole("dialog", { name: /Proposed change to main.rs/ })).toBeVisible();
  expect(canvasRequests.filter((url) => url.includes("/editor/axe-editor.js"))).toHaveLength(1);
  expect(canvasRequests.filter((url) => url.includes("/pkg/split_"))).toHaveLength(1);
});

test("typing, Tab, undo, highlighting and the debounced file sync", async ({ page, server }) => {
  const sent: string[] = [];
  const socketSeen = new Promise<WebSocket>((resolve) => page.on("websocket", resolve));
  await page.goto(server.url + "/canvas");
  const socket = await socketSeen;
  socket.on("framesent", (frame) => {
    if (typeof frame.payload === "string" && frame.payload.includes('"file_updated"')) {
      sent.push(frame.payload);
    }
  });
  await expect(page.getByRole("status")).toHaveText("Connected");
  const code = page.getByRole("textbox", { name: "Code editor" });
  await expect(code).toContainText('println!("Hello from AXE!")');

  // Line numbers and syntax highlighting come from CodeMirror.
  await expect(page.locator(".cm-lineNumbers .cm-gutterElement", { hasText: /^3$/ })).toBeVisible();
  const keyword = code.locator("span", { hasText: /^fn$/ }).first();
  await expect(keyword).toBeVisible();
  expect(await keyword.evaluate((el) => getComputedStyle(el).color)).not.toBe(
    await code.evaluate((el) => getComputedStyle(el).color),
  );

  // Type at the end in one burst: exactly one file_updated follows, carrying the edit.
  await code.click();
  await page.keyboard.press("Control+End");
  const typedAt = Date.now();
  await page.keyboard.type("// edited in the test\n", { delay: 20 });
  await expect.poll(() => sent.length, { timeout: 10_000 }).toBe(1);
  expect(Date.now() - typedAt).toBeGreaterThanOrEqual(2_000);
  const update = JSON.parse(sent[0]);
  expect(update.payload.content).toContain("// edited in the test");
  expect(update.payload.file_id).toBe("main");

  // Tab indents instead of leaving the editor.
  await page.keyboard.press("Tab");
  await page.keyboard.type("x");
  await expect(code).toContainText(/\s+x/);
  await expect(code).toBeFocused();

  // Undo takes the edits back.
  for (let i = 0; i < 4; i++) await page.keyboard.press("Control+z");
  await expect(code).not.toContainText("edited in the test");
});
