// AXE on someone else's site: a host page on a second origin adds the script tag, and styles
// everything with universal !important rules. The widget still looks like itself (shadow root),
// the page keeps its own looks, and what the page loads from AXE's server is held to budgets:
// before the person opens AXE, and on opening the panel (measured from the browser's network
// events; the figures are printed).
import { test, expect, Page } from "@playwright/test";
import { hostPage, startServer } from "./support/server";
import { sendMessage } from "./support/widget";

const KIB = 1024;
const BEFORE_OPEN_BUDGET = Number(process.env.AXE_BUDGET_BEFORE_OPEN_KIB ?? 20) * KIB;
const PANEL_BUDGET = Number(process.env.AXE_BUDGET_PANEL_KIB ?? 260) * KIB;

/** Counts the bytes `page` receives (as sent, compressed) from URLs starting with `origin`. */
async function countBytesFrom(page: Page, origin: string): Promise<() => number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  const urls = new Map<string, string>();
  let total = 0;
  cdp.on("Network.responseReceived", (event) => urls.set(event.requestId, event.response.url));
  cdp.on("Network.loadingFinished", (event) => {
    if (urls.get(event.requestId)?.startsWith(origin)) total += event.encodedDataLength;
  });
  return () => total;
}

async function style(page: Page, selector: string, property: string): Promise<string> {
  return page.locator(selector).first().evaluate((el, p) => getComputedStyle(el).getPropertyValue(p), property);
}

test("a hostile host page: AXE looks like itself, the page like itself, and loads little before it is opened", async ({ page }) => {
  const server = await startServer();
  try {
    const received = await countBytesFrom(page, server.url);
    await page.goto(hostPage("hostile.html", server));
    const button = page.getByRole("button", { name: "Open AXE assistant" });
    await expect(button).toBeVisible();
    await page.waitForLoadState("networkidle");
    const beforeOpen = received();
    console.log(`bytes from AXE before open: ${beforeOpen} (${(beforeOpen / KIB).toFixed(1)} KiB)`);
    expect(beforeOpen).toBeGreaterThan(0);
    expect(beforeOpen).toBeLessThanOrEqual(BEFORE_OPEN_BUDGET);

    // The host's rules do not reach inside the widget…
    expect(await button.evaluate((el) => getComputedStyle(el).fontFamily)).not.toContain("Comic");
    expect(await button.evaluate((el) => getComputedStyle(el).color)).toBe("rgb(255, 255, 255)");

    await button.click();
    const panel = page.getByRole("region", { name: "AXE assistant" });
    await expect(page.getByRole("status", { name: "Connected" })).toBeVisible({ timeout: 20_000 });
    await page.waitForLoadState("networkidle");
    const panelBytes = received() - beforeOpen;
    console.log(`bytes from AXE to open the panel: ${panelBytes} (${(panelBytes / KIB).toFixed(1)} KiB)`);
    expect(panelBytes).toBeLessThanOrEqual(PANEL_BUDGET);
    const box = await panel.boundingBox();
    expect(Math.round(box!.width)).toBe(320);
    expect(Math.round(box!.height)).toBe(480);
    expect(await panel.evaluate((el) => getComputedStyle(el).display)).toBe("flex");
    expect(await panel.evaluate((el) => getComputedStyle(el).boxSizing)).toBe("border-box");

    // It works: a chat and its reply, in the widget's own colours and font.
    await sendMessage(page, "hello from a hostile page");
    const reply = page.locator("li.msg.assistant").last();
    await expect(reply).toContainText("hello from a hostile page");
    expect(await reply.evaluate((el) => getComputedStyle(el).color)).not.toBe("rgb(255, 0, 0)");
    expect(await reply.evaluate((el) => getComputedStyle(el).fontFamily)).not.toContain("Comic");

    // …and the widget's rules do not reach the page: its element named like the widget's panel
    // keeps the host's styles.
    expect(await style(page, ".probe", "color")).toBe("rgb(255, 0, 0)");
    expect(await style(page, ".probe", "font-family")).toContain("Comic");
    expect(await style(page, ".probe-panel", "position")).toBe("static");
    expect(await style(page, ".probe-panel", "width")).not.toBe("320px");

    // The canvas opens, full screen.
    await page.getByRole("button", { name: "Maximize to canvas" }).click();
    const canvas = page.getByRole("region", { name: "AXE canvas" });
    await expect(canvas).toBeVisible({ timeout: 20_000 });
    const viewport = page.viewportSize()!;
    const canvasBox = await canvas.boundingBox();
    expect(Math.round(canvasBox!.width)).toBe(viewport.width);
    await expect(page.getByRole("textbox", { name: "Code editor" })).toContainText("fn main()", { timeout: 20_000 });
  } finally {
    await server.stop();
  }
});
