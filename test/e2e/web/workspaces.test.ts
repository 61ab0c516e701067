/**
 * The Workspaces page: creating a workspace shows its agent token once and the one line that
 * downloads and starts the agent, each with a copy button; the line, run as shown (bash, curl,
 * the machine's Node.js 20), connects the agent and the page says so without a reload, and says
 * so again when it stops. Screenshots at 360 and 1280 px, light and dark, go to
 * `${tmpdir}/keel-ui-shots`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  agentNodeVersion,
  buildAgentBundle,
  type RunningLine,
  runLine,
} from "../support/standalone-agent.ts";
import {
  addProviderAndModelViaApi,
  api,
  createOwnerViaApi,
  normalize,
  shownText,
  TEST_TIMEOUT,
  UI_TIMEOUT,
  useWeb,
} from "./support.ts";

const SHOTS = join(tmpdir(), "keel-ui-shots");

async function screenshots(page: Page, name: string) {
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({
        path: join(SHOTS, `${name}-${width}-${scheme}.png`),
        fullPage: true,
      });
    }
  }
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** What the page's clipboard holds (the test's tsconfig has no DOM types: the string form). */
const clipboard = (page: Page) => page.evaluate<string>("navigator.clipboard.readText()");

describe("web: the Workspaces page", { timeout: TEST_TIMEOUT }, () => {
  const web = useWeb();
  let token: string;
  const temp: string[] = [];
  let line: RunningLine | undefined;

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    buildAgentBundle();
    token = await createOwnerViaApi(web.url);
    await addProviderAndModelViaApi(web.url, token, web.fake.url);
  });

  afterAll(async () => {
    await line?.stop();
    for (const dir of temp) rmSync(dir, { recursive: true, force: true });
  });

  it("shows the token once and the one-line start; the agent it starts shows up live", async () => {
    agentNodeVersion(); // the line's `node` is Node.js 20 (it throws, saying so, otherwise)
    const page = await web.signedInPage(token);
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    await page.goto(web.url);
    await page.getByRole("link", { name: "Workspaces" }).click();
    await page.getByRole("heading", { name: "Workspaces", level: 1 }).waitFor();
    const form = page.getByRole("form", { name: "Add a workspace" });
    await form.getByLabel("Name").fill("Laptop checkout");
    await form.getByRole("button", { name: "Add workspace" }).click();

    const panel = page.getByRole("region", { name: "Workspace “Laptop checkout” created." });
    await panel.waitFor({ timeout: UI_TIMEOUT });
    const agentToken = await shownText(
      panel.getByRole("figure", { name: /Copy the agent token/ }).locator("code"),
    );
    expect(agentToken).toMatch(/^keelws_\S+$/);
    const command = await shownText(
      panel.getByRole("figure", { name: /In the workspace's directory, run/ }).locator("code"),
    );
    expect(command).toBe(
      `curl -fsSL --create-dirs -o ~/.cache/keel/keel-agent.mjs ${web.url}/agent/keel-agent.mjs` +
        ` && node ~/.cache/keel/keel-agent.mjs --url ${web.url}`,
    );
    // The line holds no secret: the agent asks for the token (or reads KEEL_AGENT_TOKEN).
    expect(command).not.toContain(agentToken);

    // Each copy button puts exactly what is shown on the clipboard, and says so.
    const copyToken = panel.getByRole("button", { name: "Copy the agent token" });
    await copyToken.click();
    expect(await clipboard(page)).toBe(agentToken);
    expect(await shownText(copyToken)).toBe("Copied");
    await panel.getByRole("button", { name: "Copy the command" }).click();
    expect(await clipboard(page)).toBe(command);

    const status = panel.getByRole("status");
    expect(await shownText(status)).toBe("Waiting for the agent to connect…");
    const row = page.getByRole("row", { name: /Laptop checkout/ });
    expect(normalize(await shownText(row))).toContain("offline");
    await screenshots(page, "workspaces-new");

    // Run the line as shown, in a workspace directory, on Node.js 20: the page follows by itself.
    const dir = mkdtempSync(join(tmpdir(), "keel-web-oneliner-"));
    const home = mkdtempSync(join(tmpdir(), "keel-web-oneliner-home-"));
    temp.push(dir, home);
    line = runLine(command, { cwd: dir, home, token: agentToken });
    await expect
      .poll(() => shownText(status), { timeout: UI_TIMEOUT })
      .toBe("Agent connected · 0.1.0");
    expect(normalize(await shownText(row))).toContain("connected · 0.1.0");
    await screenshots(page, "workspaces-connected");

    await line.stop();
    expect(line.output()).not.toContain("error");
    await expect
      .poll(() => shownText(status), { timeout: UI_TIMEOUT })
      .toBe("Waiting for the agent to connect…");
    expect(normalize(await shownText(row))).toContain("offline");

    // Once dismissed, the token is gone for good: not in the page, not in the API.
    await panel.getByRole("button", { name: "Done" }).click();
    await panel.waitFor({ state: "detached" });
    expect(await shownText(page.locator("body"))).not.toContain(agentToken);
    const listed = await api(web.url, token, "GET", "/workspaces");
    expect(JSON.stringify(listed.body)).not.toContain(agentToken);

    // The line stays at hand for starting an agent again (with the token kept elsewhere).
    await page.getByText("How to start a workspace's agent").click();
    const again = page.getByRole("figure", { name: /it asks for the token/ });
    expect(await shownText(again.locator("code"))).toBe(command);
    await page.setViewportSize({ width: 360, height: 900 });
    await page.screenshot({ path: join(SHOTS, "workspaces-help-360-light.png"), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });

    // And a new chat can pick the workspace.
    await page.getByRole("link", { name: "New chat" }).click();
    const picker = page.getByRole("combobox", { name: "Workspace" });
    await expect
      .poll(() => picker.locator("option").allInnerTexts(), { timeout: UI_TIMEOUT })
      .toContain("Laptop checkout (agent offline)");
  });
});
