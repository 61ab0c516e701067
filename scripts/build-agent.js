#!/usr/bin/env node
/**
 * `npm run build:agent` (part of `npm run build`): bundles the standalone workspace agent
 * (src/workspace/agent-main.ts) with everything it imports — ws, zod, the MCP SDK's client — into
 * one ES module, dist/agent/keel-agent.mjs, which `keel server` serves at /agent/keel-agent.mjs.
 * The file needs nothing installed: `node keel-agent.mjs` on Node.js 20 or later.
 *
 * Plain JavaScript, like prepare.js: it may run on whichever Node.js runs npm.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..");

/**
 * zod re-exports its error messages in every language it has (`z.locales`), which no bundler can
 * leave out; the agent uses English only (zod's default): the others are a quarter of the file.
 */
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: 'export { default as en } from "./en.js";\n',
      resolveDir: dirname(args.path),
      loader: "js",
    }));
  },
};
// An other place to write it (tests): `node scripts/build-agent.js OUTFILE`.
const outfile = resolve(process.argv[2] ?? join(root, "dist", "agent", "keel-agent.mjs"));

await mkdir(dirname(outfile), { recursive: true });
const result = await build({
  entryPoints: [join(root, "src", "workspace", "agent-main.ts")],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  // The oldest Node.js the agent supports: syntax newer than it is lowered, or the build fails.
  target: "node20",
  // Whitespace and syntax (a third smaller), not identifiers: a stack trace in a report still
  // names the functions it went through.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "eof",
  // ws loads these native speed-ups when installed and does without them: leave them out.
  external: ["bufferutil", "utf-8-validate"],
  // CommonJS dependencies (ws) require Node's built-ins; an ES module has no `require` of its own.
  banner: {
    js: [
      "#!/usr/bin/env node",
      "// Keel workspace agent: `node keel-agent.mjs --help`. Built from src/workspace/agent-main.ts.",
      'import { createRequire as __keelCreateRequire } from "node:module";',
      "const require = __keelCreateRequire(import.meta.url);",
    ].join("\n"),
  },
  plugins: [zodEnglishOnly],
  logLevel: "warning",
  write: false,
});

// Written aside, then renamed over the old file: a running server never serves half a build.
const [output] = result.outputFiles;
const partial = `${outfile}.${process.pid}.partial`;
await writeFile(partial, output.contents, { mode: 0o644 });
await rename(partial, outfile);
const bytes = output.contents.byteLength;
console.log(`keel: built ${relative(root, outfile)} (${(bytes / 1024).toFixed(0)} KiB)`);
