// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time by package/file and by function,
// and inclusive time of the heaviest functions. Usage:
//
//   node --cpu-prof --cpu-prof-dir=bench/results/prof bench/stream.bench.ts --only keel --transport h1
//   node bench/cpuprofile.ts bench/results/prof/CPU.*.cpuprofile [--top 40]

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "30" } },
});
const TOP = Number(values.top);
const file = positionals[0];
if (!file) {
  process.stderr.write("usage: node bench/cpuprofile.ts FILE.cpuprofile [--top N]\n");
  process.exit(2);
}

const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);

// Self time per node, µs.
const self = new Map<number, number>();
profile.samples.forEach((id, i) => {
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const totalUs = [...self.values()].reduce((a, b) => a + b, 0);

/** A short place name: the package (or repo folder) a frame belongs to. */
function place(url: string): string {
  if (url === "") return "(native/V8)";
  if (url.startsWith("node:")) return url;
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "/node_modules/".length).split("/");
    const pkg = rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? "?");
    return pkg;
  }
  const m = /\/(src|bench|test)\/(.*)$/.exec(url);
  return m ? `${m[1]}/${m[2]}` : url;
}

/** A coarse area, to see at a glance whose code the time is spent in. */
function area(frame: CallFrame): string {
  const url = frame.url;
  if (url === "") {
    if (frame.functionName === "(idle)") return "idle (waiting for I/O)";
    if (frame.functionName === "(garbage collector)") return "V8: garbage collector";
    if (frame.functionName === "runMicrotasks") return "V8: microtask queue (promises, async)";
    return "V8: other native";
  }
  if (url.includes("/src/")) return "Keel src/";
  if (url.includes("/bench/")) return "bench/";
  if (url.includes("/node_modules/zod/")) return "zod (AI SDK chunk validation)";
  if (url.includes("/node_modules/eventsource-parser/")) return "eventsource-parser";
  if (/\/node_modules\/(@ai-sdk\/|ai\/)/.test(url)) return "AI SDK (@ai-sdk/*, ai)";
  if (url.includes("/node_modules/undici/") || url.includes("deps/undici")) return "undici";
  if (url.startsWith("node:internal/webstreams") || url === "node:internal/encoding") {
    return "node: web streams + TextDecoder";
  }
  if (url.startsWith("node:internal/modules") || url.includes("amaro") || url.startsWith("wasm:")) {
    return "node: module loading / type stripping";
  }
  if (url.startsWith("node:")) return "node: other (net, streams, timers, …)";
  return "other";
}

function label(frame: CallFrame): string {
  const name = frame.functionName || "(anonymous)";
  return `${name}  ${place(frame.url)}:${frame.lineNumber + 1}`;
}

function addTo(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

const selfByArea = new Map<string, number>();
const selfByPlace = new Map<string, number>();
const selfByFunction = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, us] of self) {
  const node = byId.get(id);
  if (!node) continue;
  addTo(selfByArea, area(node.callFrame), us);
  addTo(selfByPlace, place(node.callFrame.url), us);
  addTo(selfByFunction, label(node.callFrame), us);
  // Inclusive: credit every distinct frame on the stack once.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur);
    if (!n) break;
    const key = label(n.callFrame);
    if (seen.has(key)) continue;
    seen.add(key);
    addTo(inclusive, key, us);
  }
}

function print(title: string, map: Map<string, number>, top: number): void {
  const rows = [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  process.stdout.write(`\n${title}\n`);
  for (const [key, us] of rows) {
    const ms = (us / 1000).toFixed(1).padStart(9);
    const pct = ((100 * us) / totalUs).toFixed(1).padStart(6);
    process.stdout.write(`${ms} ms ${pct} %  ${key}\n`);
  }
}

// `… | head` closes the pipe early; that is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});
process.stdout.write(`profile: ${(totalUs / 1000).toFixed(0)} ms sampled\n`);
print("self time by area", selfByArea, TOP);
print("self time by package / file", selfByPlace, TOP);
print("self time by function", selfByFunction, TOP);
print("inclusive time by function", inclusive, TOP);
