// Before the specs: packs the npm package (scripts/build-npm.sh, from the release site the test
// command just built) and builds the React host page from that tarball with esbuild, as a
// host application would, into end2end/.hosts-build/ (served by the host-page server).
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";

const end2end = path.resolve(__dirname, "..", "..");
const repo = path.resolve(end2end, "..");
export const hostsBuild = path.join(end2end, ".hosts-build");

export default async function globalSetup(): Promise<void> {
  const tarball = execFileSync(path.join(repo, "scripts", "build-npm.sh"), { cwd: repo })
    .toString()
    .trim()
    .split("\n")
    .at(-1)!;
  rmSync(hostsBuild, { recursive: true, force: true });
  const installed = path.join(hostsBuild, "node_modules", "@axe", "widget");
  mkdirSync(installed, { recursive: true });
  execFileSync("tar", ["-xzf", path.resolve(repo, tarball), "-C", installed, "--strip-components=1"]);
  await build({
    entryPoints: [path.join(end2end, "hosts", "react", "app.jsx")],
    bundle: true,
    format: "esm",
    jsx: "automatic",
    outfile: path.join(hostsBuild, "react", "app.js"),
    nodePaths: [path.join(hostsBuild, "node_modules"), path.join(end2end, "node_modules")],
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "warning",
  });
  // The host serves the package's own build of the widget (its `assets`).
  for (const folder of ["pkg", "editor"]) {
    cpSync(path.join(installed, folder), path.join(hostsBuild, "react", "axe", folder), { recursive: true });
  }
}
