// Several nodes behind HAProxy (cluster mode over Redis and PostgreSQL): the widget's node is
// killed with SIGKILL; the badge goes Offline, then Connected through another node, and the
// conversation is intact. The time from the kill to Connected is printed.
//
// Uses the run's Redis, HAProxy (AXE_TEST_LB: by default 127.0.0.1:17100 over the ports
// 17101-17103, its status page 99 ports up) and PostgreSQL, started once by the README's test
// command.
import { test, expect } from "@playwright/test";
import { AxeServer } from "./support/server";
import { sendMessage } from "./support/widget";

const redisUrl = process.env.AXE_TEST_REDIS_URL;
const postgresUrl = process.env.AXE_TEST_POSTGRES_URL;
// "BALANCER NODE NODE NODE", as scripts/test-haproxy.sh prints it.
const [balancerAddr, ...nodeAddrs] = (process.env.AXE_TEST_LB ?? "127.0.0.1:17100").split(" ");
const balancer = `http://${balancerAddr}`;
const nodePorts = nodeAddrs.map((addr) => Number(addr.split(":")[1]));
const statsUrl = `http://127.0.0.1:${Number(balancerAddr.split(":")[1]) + 99}/stats;csv`;

/** Waits until HAProxy sees `count` nodes up. */
async function nodesUp(count: number): Promise<void> {
  await expect(async () => {
    const table = await (await fetch(statsUrl)).text();
    // Both backends (sockets by session, everything else) list every node.
    const up = (backend: string) =>
      table.split("\n").filter((l) => l.startsWith(`${backend},node-`) && l.split(",")[17] === "UP").length;
    expect(Math.min(up("nodes"), up("sockets"))).toBeGreaterThanOrEqual(count);
  }).toPass({ timeout: 20_000 });
}

/** The node holding the page's one socket, by its own gauge (loopback may read /metrics). */
async function servingNode(nodes: AxeServer[]): Promise<AxeServer> {
  let serving: AxeServer | undefined;
  await expect(async () => {
    const open = await Promise.all(
      nodes.map(async (node) => {
        const metrics = await (await fetch(`${node.url}/metrics`)).text();
        return /^axe_ws_connections_open 1$/m.test(metrics);
      }),
    );
    expect(open.filter(Boolean)).toHaveLength(1);
    serving = nodes[open.indexOf(true)];
  }).toPass({ timeout: 10_000 });
  return serving!;
}

test("the widget's node is killed: Offline, then Connected through another, nothing lost", async ({ page }) => {
  test.skip(
    !redisUrl && !process.env.AXE_REQUIRE_CLUSTER,
    "needs AXE_TEST_REDIS_URL, AXE_TEST_POSTGRES_URL and the test balancer (scripts/test.sh)",
  );
  expect(redisUrl && postgresUrl, "AXE_TEST_REDIS_URL and AXE_TEST_POSTGRES_URL").toBeTruthy();
  expect(nodePorts, "AXE_TEST_LB names three nodes").toHaveLength(3);
  const nodes = nodePorts.map(
    (port, i) =>
      new AxeServer(port, {
        AXE_DATABASE_URL: postgresUrl!,
        AXE_REDIS_URL: redisUrl!,
        AXE_NODE_ID: `e2e-node-${i + 1}-${Date.now()}`,
        AXE_ALLOWED_ORIGINS: balancer,
      }),
  );
  try {
    await Promise.all(nodes.map((node) => node.start()));
    await nodesUp(3);
    // Through the balancer a request is forwarded, never local: the metrics need the token.
    expect((await fetch(`${balancer}/metrics`)).ok).toBe(false);
    expect((await fetch(`${nodes[0].url}/metrics`)).ok).toBe(true);

    await page.goto(`${balancer}/widget-test?view=panel`);
    await expect(page.getByRole("status", { name: "Connected" })).toBeVisible({ timeout: 20_000 });
    await sendMessage(page, "hello cluster");
    await expect(page.getByRole("button", { name: "Stop" })).toBeHidden({ timeout: 20_000 });
    const replies = page.locator("li.msg.assistant");
    await expect(replies).toHaveCount(1);
    const firstReply = (await replies.first().textContent()) ?? "";

    const victim = await servingNode(nodes);
    const killed = Date.now();
    await victim.kill();
    await expect(page.getByRole("status", { name: "Offline" })).toBeVisible({ timeout: 5_000 });
    await expect(page.getByRole("status", { name: "Connected" })).toBeVisible({ timeout: 30_000 });
    const seconds = (Date.now() - killed) / 1000;
    console.log(`kill -9 of the widget's node → Connected again: ${seconds.toFixed(1)} s`);
    test.info().annotations.push({ type: "kill to Connected", description: `${seconds.toFixed(1)} s` });

    // The conversation is intact, and the session goes on on its new node.
    await expect(page.locator("li.msg.user")).toContainText(["hello cluster"]);
    await expect(replies.first()).toHaveText(firstReply);
    await sendMessage(page, "after the kill");
    await expect(page.getByRole("button", { name: "Stop" })).toBeHidden({ timeout: 20_000 });
    await expect(replies).toHaveCount(2);
    await expect(page.locator("li.msg.user")).toContainText(["hello cluster", "after the kill"]);
    const survivor = await servingNode(nodes.filter((node) => node !== victim));
    expect(survivor).not.toBe(victim);
  } finally {
    await Promise.all(nodes.map((node) => node.kill()));
  }
});
