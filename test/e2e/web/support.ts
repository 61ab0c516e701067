/**
 * The web UI's end-to-end harness: a real `keel server` (embedded database in a temporary data
 * dir) serving the built UI, the fake provider, and Debian's Chromium driven by playwright-core.
 *
 * `useWeb()` registers the hooks of one test file: it builds the UI when `web/dist` is stale,
 * starts the fake and the server, launches one browser for the file, gives each test fresh
 * browser contexts (`web.newPage()`), and on a failure saves a screenshot of every open page to
 * `${os.tmpdir()}/keel-web-screenshots/<test name>.png` and prints the pages' errors and the
 * server's last output lines. `KEEL_WEB_TIMINGS=1` prints how long the fixture took to start.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Locator,
  type Page,
} from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { type FakeProvider, startFakeProvider } from "../../fakeprovider/index.ts";
import { freePort, type KeelProcess, startKeel } from "../support/keel-process.ts";

export const ROOT = join(import.meta.dirname, "../../..");
const WEB = join(ROOT, "web");
const DIST_INDEX = join(WEB, "dist", "index.html");

export const CHROMIUM = process.env.KEEL_CHROMIUM ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];
export const SCREENSHOT_DIR = join(tmpdir(), "keel-web-screenshots");
/** Where the screenshots a person looks at go (`shootWidths`), apart from the failures'. */
export const UI_SHOTS = join(tmpdir(), "keel-ui-shots");

/** How long a UI expectation may take (a turn on the fake takes well under a second). */
export const UI_TIMEOUT = 15_000;
/** Per-test timeout for these files (the Vitest default, 30 s, is tight on a busy 2-core box). */
export const TEST_TIMEOUT = 60_000;

// ---------------------------------------------------------------------------------------------
// Building the UI once

function newestMtime(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function distIsFresh(): boolean {
  let built: number;
  try {
    built = statSync(DIST_INDEX).mtimeMs;
  } catch {
    return false;
  }
  const sources = Math.max(
    newestMtime(join(WEB, "src")),
    newestMtime(join(WEB, "index.html")),
    newestMtime(join(WEB, "vite.config.ts")),
  );
  return built >= sources;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A lock shared by the test files Vitest runs in parallel: `mkdir` is atomic. */
async function withLock<T>(name: string, work: () => Promise<T>): Promise<T> {
  const lock = join(tmpdir(), name);
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      // A holder that died leaves the directory behind: a build never takes this long.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { recursive: true });
      } catch {
        // released meanwhile
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${lock}`);
      await sleep(100);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // The Node that runs the tests (24) runs the build too, whatever `node` the shell has.
    const path = [join(ROOT, "node_modules", ".bin"), dirname(process.execPath), process.env.PATH];
    const child = spawn(command, args, {
      cwd,
      // Vitest sets NODE_ENV=test, and Vite would build React's development bundle with it.
      env: { ...process.env, NODE_ENV: "production", PATH: path.join(":") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} ${args.join(" ")} exited with ${code}:\n${output}`)),
    );
  });
}

/** Runs `npm run build` when `web/dist/index.html` is missing or older than the UI's sources. */
export async function ensureWebBuilt(): Promise<void> {
  if (distIsFresh()) return;
  await withLock("keel-web-build.lock", async () => {
    if (distIsFresh()) return; // another file built it while this one waited
    await run("npm", ["run", "build"], ROOT);
  });
}

// ---------------------------------------------------------------------------------------------
// A migrated, empty database to copy

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

/**
 * A data dir on which `keel server` has run once: the embedded database is created and migrated,
 * and nobody has signed up yet. Creating one takes 1–3 s (initdb and migrations); copying it (as an
 * operator restoring a stopped server's data dir would; Keel puts the cluster's owner and mode
 * right at start), a few hundred ms. It is made once per version of the store's code (shared by the files Vitest runs
 * in parallel, and by later runs).
 */
async function templateDataDir(): Promise<string> {
  const hash = createHash("sha256");
  for (const file of filesUnder(join(ROOT, "src", "store"))) {
    hash.update(file.slice(ROOT.length)).update(readFileSync(file));
  }
  const dir = join(tmpdir(), `keel-web-template-${hash.digest("hex").slice(0, 16)}`);
  const ready = `${dir}.ready`;
  if (existsSync(ready)) return dir;
  await withLock("keel-web-template.lock", async () => {
    if (existsSync(ready)) return;
    // Templates of older store code are of no use any more.
    for (const entry of readdirSync(tmpdir())) {
      const old = join(tmpdir(), entry);
      if (!entry.startsWith("keel-web-template-") || old === dir || old === ready) continue;
      if (Date.now() - statSync(old).mtimeMs > 10 * 60_000) rmSync(old, { recursive: true });
    }
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    const keel = await startKeel({ dataDir: dir, port: await freePort() });
    const code = await keel.stop();
    if (code !== 0) throw new Error(`keel server exited with ${code}:\n${keel.output()}`);
    writeFileSync(ready, new Date().toISOString());
  });
  return dir;
}

/** A fresh data dir holding an empty, migrated database. */
export async function newDataDir(): Promise<string> {
  const template = await templateDataDir();
  const dataDir = mkdtempSync(join(tmpdir(), "keel-web-"));
  cpSync(template, dataDir, { recursive: true });
  return dataDir;
}

// ---------------------------------------------------------------------------------------------
// The API, for what a test sets up without the UI

export interface ApiResult<T> {
  status: number;
  body: T;
}

export async function api<T = unknown>(
  url: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiResult<T>> {
  const response = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export const OWNER = {
  username: "owner",
  email: "owner@example.com",
  password: "a long enough password",
};

/** Creates the owner through the API; returns their session token. */
export async function createOwnerViaApi(url: string): Promise<string> {
  const { status, body } = await api<{ session_token: string }>(
    url,
    undefined,
    "POST",
    "/users/first",
    OWNER,
  );
  expect(status).toBe(201);
  return body.session_token;
}

export interface ProviderAndModel {
  providerId: string;
  modelId: string;
  modelName: string;
}

/** An OpenAI-compatible provider pointed at the fake, and one enabled model on it. */
export async function addProviderAndModelViaApi(
  url: string,
  token: string,
  fakeUrl: string,
  options: { apiKey?: string; displayName?: string } = {},
): Promise<ProviderAndModel> {
  const provider = await api<{ id: string }>(url, token, "POST", "/providers", {
    type: "openai-compatible",
    name: "Fake provider",
    base_url: `${fakeUrl}/v1`,
    api_key: options.apiKey ?? "sk-fake-key",
  });
  expect(provider.status).toBe(201);
  const modelName = options.displayName ?? "Fake model";
  const model = await api<{ id: string }>(url, token, "POST", "/models", {
    provider_id: provider.body.id,
    model: "fake-model",
    display_name: modelName,
  });
  expect(model.status).toBe(201);
  return { providerId: provider.body.id, modelId: model.body.id, modelName };
}

// ---------------------------------------------------------------------------------------------
// The fixture

export interface WebOptions {
  /** Extra environment for `keel server` (retry delays, silence timeout, …). */
  env?: Record<string, string>;
}

export interface Web {
  readonly fake: FakeProvider;
  readonly keel: KeelProcess;
  readonly url: string;
  readonly browser: Browser;
  /** A page in a fresh browser context (its own cookies), closed after the test. */
  newPage(options?: BrowserContextOptions & { initScript?: string }): Promise<Page>;
  /** A page already signed in with `token` (the session cookie the UI would get). */
  signedInPage(token: string, options?: { initScript?: string }): Promise<Page>;
}

interface Tracked {
  context: BrowserContext;
  errors: string[];
  console: string[];
}

export function useWeb(options: WebOptions = {}): Web {
  let fake: FakeProvider | undefined;
  let keel: KeelProcess | undefined;
  let browser: Browser | undefined;
  let tracked: Tracked[] = [];
  let dataDir: string | undefined;
  let launched: Promise<Browser> | undefined;

  beforeAll(async () => {
    const t0 = performance.now();
    launched = chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    await ensureWebBuilt();
    const t1 = performance.now();
    fake = await startFakeProvider();
    dataDir = await newDataDir();
    keel = await startKeel({ dataDir, port: await freePort(), env: options.env ?? {} });
    const t2 = performance.now();
    browser = await launched;
    if (process.env.KEEL_WEB_TIMINGS) {
      console.log(
        `web fixture: build ${Math.round(t1 - t0)} ms, keel ${Math.round(t2 - t1)} ms, browser ready at ${Math.round(performance.now() - t0)} ms`,
      );
    }
  }, 120_000);

  afterAll(async () => {
    // Closed even when the hook that launched it failed before keeping it.
    await (browser ?? (await launched?.catch(() => undefined)))?.close();
    await keel?.stop();
    await fake?.close();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    fake?.reset();
  });

  afterEach(async (context) => {
    // (A test marked `.fails` is expected to fail: no screenshot for that.)
    const failed = context.task.result?.state === "fail" && !context.task.fails;
    const pages = tracked.flatMap((t) => t.context.pages());
    if (failed) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const base = context.task.name.replace(/[^\w.-]+/g, "-").replace(/^-|-$/g, "");
      for (const [i, page] of pages.entries()) {
        const file = join(SCREENSHOT_DIR, `${base}${i === 0 ? "" : `-${i + 1}`}.png`);
        try {
          await page.screenshot({ path: file, fullPage: true, timeout: 5_000 });
          console.log(`screenshot of the failed test: ${file} (${page.url()})`);
        } catch (error) {
          console.log(`no screenshot of ${page.url()}: ${String(error)}`);
        }
      }
      for (const t of tracked) {
        if (t.errors.length > 0) console.log(`page errors:\n${t.errors.join("\n")}`);
        if (t.console.length > 0) console.log(`browser console:\n${t.console.join("\n")}`);
      }
      console.log(
        `keel server output (last lines):\n${keel?.output().split("\n").slice(-40).join("\n")}`,
      );
    }
    const errors = tracked.flatMap((t) => t.errors);
    await Promise.all(tracked.map((t) => t.context.close().catch(() => undefined)));
    tracked = [];
    // An uncaught exception in the page is a bug even when the test's own checks passed.
    if (context.task.result?.state !== "fail") {
      expect(errors, "uncaught errors in the page").toEqual([]);
    }
  });

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useWeb: ${what} is read inside a test`);
    return value;
  };

  async function newPage(
    contextOptions: BrowserContextOptions & { initScript?: string } = {},
  ): Promise<Page> {
    const { initScript, ...rest } = contextOptions;
    const context = await need(browser, "browser").newContext({
      viewport: { width: 1280, height: 800 },
      ...rest,
    });
    context.setDefaultTimeout(UI_TIMEOUT);
    const entry: Tracked = { context, errors: [], console: [] };
    tracked.push(entry);
    if (initScript !== undefined) await context.addInitScript(initScript);
    const page = await context.newPage();
    context.on("page", (p) => watch(p, entry));
    watch(page, entry);
    return page;
  }

  function watch(page: Page, entry: Tracked) {
    page.on("pageerror", (error) => entry.errors.push(`${page.url()}: ${error.stack ?? error}`));
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") {
        entry.console.push(`[${message.type()}] ${message.text()}`);
      }
    });
  }

  return {
    get fake() {
      return need(fake, "fake");
    },
    get keel() {
      return need(keel, "keel");
    },
    get url() {
      return need(keel, "keel").url;
    },
    get browser() {
      return need(browser, "browser");
    },
    newPage,
    async signedInPage(token, pageOptions = {}) {
      const page = await newPage(pageOptions);
      await page
        .context()
        .addCookies([{ name: "keel_session", value: token, url: need(keel, "keel").url }]);
      return page;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A connection the test can cut

export interface TcpProxy {
  /** `http://127.0.0.1:<proxy port>`: the server, through the proxy. */
  url: string;
  /** Resets every open connection through the proxy (the browser sees them fail mid-body). */
  drop(): number;
  close(): Promise<void>;
}

/**
 * A TCP proxy to `targetPort`: the page talks to the server through it, and `drop()` cuts the
 * connections as a network failure would (cookies do not depend on the port, so a session for
 * the server works through the proxy too).
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
  };
  const server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    drop() {
      const count = sockets.size;
      for (const socket of sockets) socket.resetAndDestroy();
      return count;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// UI steps and views

/** First run: the setup page creates the owner; ends on the signed-in app. */
export async function setupOwnerViaUi(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.getByRole("heading", { name: "Welcome to Keel" }).waitFor();
  await page.getByLabel("Username").fill(OWNER.username);
  await page.getByLabel("Email").fill(OWNER.email);
  await page.getByLabel("Password").fill(OWNER.password);
  await page.getByRole("button", { name: "Create owner account" }).click();
  await page.getByRole("navigation", { name: "Administration" }).waitFor();
}

export async function signInViaUi(page: Page, url: string, email: string, password: string) {
  await page.goto(url);
  await page.getByRole("heading", { name: "Sign in to Keel" }).waitFor();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Your chats" }).waitFor();
}

/** The message box of the page (new chat or chat). */
export const composer = (page: Page): Locator => page.getByRole("textbox", { name: "Message" });

/** Writes the first message on the new-chat page and starts the chat; returns its id. */
export async function startChatViaUi(page: Page, text: string): Promise<string> {
  await page.getByRole("heading", { name: "New chat" }).waitFor();
  await composer(page).fill(text);
  await page.getByRole("button", { name: "Start chat" }).click();
  await page.waitForURL(/\/chats\/[^/]+$/);
  const id = /\/chats\/([^/]+)$/.exec(new URL(page.url()).pathname)?.[1];
  if (id === undefined) throw new Error(`not on a chat page: ${page.url()}`);
  return decodeURIComponent(id);
}

/** Sends a message in the open chat with Enter. */
export async function sendViaUi(page: Page, text: string): Promise<void> {
  const box = composer(page);
  await box.fill(text);
  await box.press("Enter");
  // The box empties once the server accepted the message.
  await expect.poll(() => box.inputValue(), { timeout: UI_TIMEOUT }).toBe("");
}

/** The transcript: every message, draft, notice of the open chat. */
export const transcript = (page: Page): Locator => page.locator(".transcript-inner");

/** The open chat's header: title, connection indicator, status. */
export const chatHeader = (page: Page): Locator => page.locator(".chat-header");

/** An agent reply still streaming. */
export const streamingReply = (page: Page): Locator =>
  page.locator('[aria-busy="true"]').and(page.getByRole("article", { name: "Agent reply" }));

/**
 * Full-page screenshots of `page` at 360, 1024 and 1280 px, light and dark, as
 * `${UI_SHOTS}/${name}-${width}-${scheme}.png`; the page is left at 1280 × 800, light.
 */
export async function shootWidths(page: Page, name: string): Promise<void> {
  mkdirSync(UI_SHOTS, { recursive: true });
  for (const width of [360, 1024, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({
        path: join(UI_SHOTS, `${name}-${width}-${scheme}.png`),
        fullPage: true,
      });
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: "light" });
}

/** Text as a person reads it, with whitespace runs collapsed. */
export const normalize = (text: string): string => text.replace(/\s+/g, " ").trim();

/** The text a person reads: rendered (`innerText`, so hidden text is left out), not the DOM's. */
export function shownText(locator: Locator, options?: { timeout?: number }): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point here
  return locator.innerText(options);
}

export async function transcriptText(page: Page): Promise<string> {
  return normalize(await shownText(transcript(page)));
}

/** The chat's status as the header badge shows it. */
export async function headerStatus(page: Page): Promise<string | null> {
  return chatHeader(page).locator("[data-status]").getAttribute("data-status");
}

/** Waits until the open chat's turn is over: status waiting (or error) and nothing streaming. */
export async function waitForTurnEnd(
  page: Page,
  status: "waiting" | "error" = "waiting",
  timeout = UI_TIMEOUT,
): Promise<void> {
  await expect
    .poll(async () => `${await headerStatus(page)} drafts=${await streamingReply(page).count()}`, {
      timeout,
      interval: 100,
    })
    .toBe(`${status} drafts=0`);
}

export function countOccurrences(haystack: string, needle: string): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) {
    count += 1;
  }
  return count;
}
