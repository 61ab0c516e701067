#!/usr/bin/env node
/**
 * `npm ci` / `npm install` hook: builds the web UI into web/dist and the standalone workspace
 * agent into dist/agent (`npm run build`) so `keel server` can serve them. An install without dev
 * dependencies (`--omit=dev`) has no Vite nor esbuild: it skips the build, says so, and the server
 * answers `/` with a page explaining how to build the UI (and `/agent/keel-agent.mjs` with a 404
 * saying the same). A failing build fails the install: a broken UI must not ship silently.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
if (!existsSync(join(root, "node_modules", "vite"))) {
  console.warn(
    "keel: dev dependencies are not installed; skipping the build of the web UI and the agent (npm run build).",
  );
  process.exit(0);
}
const build = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
process.exit(build.status ?? 1);
