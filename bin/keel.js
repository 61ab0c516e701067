#!/usr/bin/env node
// Keel runs its TypeScript sources directly on Node.js 24 (type stripping); `npm ci` brings
// Node 24 into node_modules/.bin, which npm scripts and `npx keel` put first on PATH.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(
    `keel needs Node.js 24 or newer; this is Node.js ${process.versions.node}.\n` +
      "Run it through npm (`npx keel …` or `npm start`) after `npm ci`, which installs Node.js 24.\n",
  );
  process.exit(1);
}
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv);
