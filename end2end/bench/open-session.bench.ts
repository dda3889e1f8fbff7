// How long opening the widget takes in Chromium, from navigation start until the badge says
// Connected and the conversation's newest message is shown: for a new session, and for one of
// 5,000 turns and 500 applied diffs (seeded with `server seed`). Each open is a fresh browser
// context (nothing kept from before: the server sends a snapshot). Prints p50/p90 of each and
// their ratio; asserts nothing about speed (a benchmark, not a timed test).
import { test, expect, Browser } from "@playwright/test";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { startServer } from "../tests/support/server";

const binary = path.resolve(__dirname, "..", "..", "target", "release", "server");
const RUNS = Number(process.env.AXE_BENCH_RUNS ?? 30);

function subjectOf(token: string): string {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()).sub;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Milliseconds from navigation start until Connected and (if given) `lastText` is shown. */
async function openOnce(browser: Browser, url: string, grant: object, lastText: string | null): Promise<number> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(
    ([credentials, expected]) => {
      localStorage.setItem("axe.credentials", credentials as string);
      // The widget lives in a shadow root, which observers of the document do not see: every
      // shadow root the page attaches is watched too.
      const roots: ParentNode[] = [document];
      // Watches the page from its first moment; records when both conditions first hold.
      const check = () => {
        for (const root of roots) {
          const badge = root.querySelector('[role="status"][aria-label="Connected"]');
          const messages = root.querySelectorAll("li.msg");
          const last = messages[messages.length - 1];
          const shown = expected === null || (last?.textContent ?? "").includes(expected as string);
          if (badge && shown && (window as any).__opened === undefined) {
            (window as any).__opened = performance.now();
          }
        }
      };
      const watch = (root: Node) =>
        new MutationObserver(check).observe(root, { subtree: true, childList: true, attributes: true, characterData: true });
      const attach = Element.prototype.attachShadow;
      Element.prototype.attachShadow = function (init: ShadowRootInit) {
        const root = attach.call(this, init);
        roots.push(root);
        watch(root);
        return root;
      };
      watch(document);
    },
    [JSON.stringify(grant), lastText] as const,
  );
  await page.goto(url + "/widget-test?view=panel");
  const opened = await page.waitForFunction(() => (window as any).__opened as number | undefined, null, {
    timeout: 30_000,
  });
  const ms = (await opened.jsonValue()) as number;
  await context.close();
  return ms;
}

test("opening a 5,000-turn session costs what opening a new one does", async ({ browser }) => {
  const server = await startServer({ AXE_RATE_CONNECTS_PER_MIN: "100000" });
  try {
    const create = async () => (await fetch(`${server.url}/api/axe/sessions`, { method: "POST" })).json();
    const long = await create();
    const started = Date.now();
    const seeded = execFileSync(binary, [
      "seed", "--database-url", server.databaseUrl, "--session", long.session_id,
      "--owner", subjectOf(long.token), "--turns", "5000", "--diffs", "500",
    ]).toString();
    console.log(seeded.trim(), `in ${Date.now() - started} ms`);
    const fresh = await create();
    // One open of each first, unmeasured: the server's and the browser's caches warm up.
    await openOnce(browser, server.url, fresh, null);
    await openOnce(browser, server.url, long, "That is all step 4999 needs.");
    const times = { new: [] as number[], long: [] as number[] };
    for (let run = 0; run < RUNS; run++) {
      // Alternated, so drift on the machine touches both alike.
      times.new.push(await openOnce(browser, server.url, fresh, null));
      times.long.push(await openOnce(browser, server.url, long, "That is all step 4999 needs."));
    }
    const report = (name: string, values: number[]) =>
      `${name}: p50 ${percentile(values, 50).toFixed(0)} ms, p90 ${percentile(values, 90).toFixed(0)} ms, min ${Math.min(...values).toFixed(0)} ms (${values.length} opens)`;
    console.log(report("new session       ", times.new));
    console.log(report("5,000-turn session", times.long));
    const ratio = percentile(times.long, 50) / percentile(times.new, 50);
    console.log(`p50 ratio long/new: ${ratio.toFixed(2)}`);
    expect(times.long).toHaveLength(RUNS);
  } finally {
    await server.stop();
  }
});
