// Starts the real release server binary as a child process on its own port, so a spec can stop
// and restart it (the offline tests) without touching other specs' servers.
import { spawn, ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const repoRoot = path.resolve(__dirname, "..", "..", "..");

/** The second origin, where the host pages are served (see host-server.mjs). */
export const HOST_ORIGIN = `http://127.0.0.1:${process.env.AXE_HOST_PORT ?? 4173}`;

/** The URL of the host page `page` (under end2end/hosts/) pointed at AXE server `axe`. */
export function hostPage(page: string, axe: AxeServer): string {
  return `${HOST_ORIGIN}/${page}?axe=${encodeURIComponent(axe.url)}`;
}
const binary = path.join(repoRoot, "target", "release", "server");
let nextPort = 3100 + Number(process.env.TEST_PARALLEL_INDEX ?? 0) * 100;

export class AxeServer {
  private child: ChildProcess | null = null;
  readonly url: string;
  /** A SQLite file of this server's own, kept across stop and start like a real deployment's. */
  readonly databaseUrl: string;

  constructor(
    readonly port: number,
    /** Extra environment for the server, e.g. a lower rate limit. */
    readonly env: Record<string, string> = {},
  ) {
    this.url = `http://127.0.0.1:${port}`;
    const folder = mkdtempSync(path.join(os.tmpdir(), `axe-e2e-${port}-`));
    this.databaseUrl = `sqlite:${path.join(folder, "axe.db")}`;
  }

  /** Starts the server and resolves once `/readyz` answers 200. */
  async start(): Promise<void> {
    const child = spawn(binary, [], {
      cwd: repoRoot,
      env: {
        ...process.env,
        AXE_ADDR: `127.0.0.1:${this.port}`,
        AXE_DATABASE_URL: this.databaseUrl,
        LEPTOS_SITE_ROOT: path.join(repoRoot, "target", "site"),
        AXE_LOG: process.env.AXE_LOG ?? "warn",
        // Its own pages, and the host pages of the second origin.
        AXE_ALLOWED_ORIGINS: [this.url, `http://localhost:${this.port}`, HOST_ORIGIN].join(","),
        ...this.env,
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    this.child = child;
    const exited = new Promise<never>((_, reject) =>
      child.once("exit", (code) => reject(new Error(`server exited early with ${code}`))),
    );
    await Promise.race([this.waitReady(), exited]);
  }

  private async waitReady(): Promise<void> {
    // Polls readiness: the process gives no other signal that it is listening.
    for (let attempt = 0; attempt < 200; attempt++) {
      try {
        const response = await fetch(`${this.url}/readyz`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`server on ${this.url} never became ready`);
  }

  /** Sends SIGKILL (a crash: nothing is flushed or closed) and waits for the process to end. */
  async kill(): Promise<void> {
    await this.end("SIGKILL");
  }

  /** Sends SIGTERM and waits for the process to exit. */
  async stop(): Promise<void> {
    await this.end("SIGTERM");
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    this.child = null;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill(signal);
    await exited;
  }
}

/** A server on a port of its own for this worker, with `env` added to its environment. */
export async function startServer(env: Record<string, string> = {}): Promise<AxeServer> {
  const server = new AxeServer(nextPort++, env);
  await server.start();
  return server;
}
