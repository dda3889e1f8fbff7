// Two tabs on one session: the older is told it was taken over and does not take it back by
// itself; it can take it back on request.
import { test, expect } from "./support/fixtures";
import { credentials, openPanel } from "./support/widget";

test("the older tab yields the session and only takes it back when asked", async ({ context, server }) => {
  const first = await context.newPage();
  await openPanel(first, server.url);
  const sessionId = (await credentials(first)).session_id;
  expect(sessionId).toMatch(/^s-[a-z0-9]{24}$/);

  // Same browser profile, so the same session id from localStorage.
  const second = await context.newPage();
  await openPanel(second, server.url);
  expect((await credentials(second)).session_id).toBe(sessionId);

  await expect(first.getByRole("alert")).toContainText("opened in another tab");
  await expect(first.getByRole("status", { name: "Offline" })).toBeVisible();
  // A reconnect would come 3 s after the close; give it well past that and check nothing moved.
  await first.waitForTimeout(4_500);
  await expect(first.getByRole("status", { name: "Offline" })).toBeVisible();
  await expect(second.getByRole("status", { name: "Connected" })).toBeVisible();

  await first.getByRole("button", { name: "Use AXE in this tab" }).click();
  await expect(first.getByRole("status", { name: "Connected" })).toBeVisible();
  await expect(second.getByRole("alert")).toContainText("opened in another tab");
});
