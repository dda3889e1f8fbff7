// A browser that will not keep the widget's unsent messages (storage full, or refused) is told
// so, instead of the widget silently losing them on the next reload.
import { test, expect } from "./support/fixtures";
import { openPanel, sendMessage } from "./support/widget";

test("a refused localStorage write is shown, and the message still goes out", async ({ page, server }) => {
  await page.addInitScript(() => {
    const setItem = Storage.prototype.setItem;
    Storage.prototype.setItem = function (key: string, value: string) {
      if (key.startsWith("axe.outbox.")) throw new DOMException("QuotaExceededError", "QuotaExceededError");
      return setItem.call(this, key, value);
    };
  });
  await openPanel(page, server.url);
  await sendMessage(page, "hello while storage is full");
  await expect(page.getByRole("alert")).toContainText("could not save your unsent changes");
  await expect(page.locator("li.msg.assistant").first()).toContainText("offline demo");
});
