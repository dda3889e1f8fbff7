// Expanded panel: connect, send a message, see it and the reply on their sides.
import { test, expect } from "./support/fixtures";
import { openPanel, sendMessage } from "./support/widget";

test("a message and its reply appear on their sides", async ({ page, server }) => {
  await openPanel(page, server.url);
  const input = page.getByRole("textbox", { name: "Message AXE" });
  await expect(input).toBeFocused();
  await expect(page.getByText("Press Enter to send, Shift+Enter for new line")).toBeVisible();

  // Shift+Enter makes a new line instead of sending.
  await input.fill("Hello AXE");
  await input.press("Shift+Enter");
  await input.pressSequentially("second line");
  await expect(input).toHaveValue("Hello AXE\nsecond line");
  await input.press("Enter");

  const log = page.getByRole("list", { name: "Conversation" });
  const mine = log.locator("li.msg.user");
  await expect(mine).toHaveCount(1);
  await expect(mine).toContainText("Hello AXE\nsecond line");
  const reply = log.locator("li.msg.assistant");
  await expect(reply).toHaveCount(1);
  await expect(reply).toContainText("offline demo");
  await expect(reply.locator("blockquote")).toContainText("Hello AXE");
  await expect(input).toHaveValue("");

  // The person's message is on the right, the assistant's on the left.
  const panel = (await page.getByRole("region", { name: "AXE assistant" }).boundingBox())!;
  const mineBox = (await mine.boundingBox())!;
  const replyBox = (await reply.boundingBox())!;
  expect(mineBox.x + mineBox.width).toBeGreaterThan(panel.x + panel.width - 30);
  expect(replyBox.x).toBeLessThan(panel.x + 30);
  expect(panel.width).toBe(320);
  expect(panel.height).toBe(480);
});

test("a reply containing HTML and script renders as inert text", async ({ page, server }) => {
  await openPanel(page, server.url);
  const hostile = `<img src=x onerror="window.__axeXss=1"><script>window.__axeXss=2</script>`;
  await sendMessage(page, hostile);
  const reply = page.getByRole("list", { name: "Conversation" }).locator("li.msg.assistant");
  await expect(reply).toHaveCount(1);
  await expect(reply.locator("blockquote")).toHaveText(hostile);
  await expect(page.locator(".chat-log img")).toHaveCount(0);
  await expect(page.locator(".chat-log script")).toHaveCount(0);
  expect(await page.evaluate(() => (window as any).__axeXss)).toBeUndefined();
});
