/**
 * Tool cards in a workspace chat, in the browser, with a real workspace agent (the workspace has a
 * server-side directory, so `keel server` runs its agent itself): a command's output streams into
 * its card; an edit shows its diff; a failing command says "exit 1" in the header; a Stop during
 * a long command keeps the output and says Stopped (also after a reload); a call for an offline
 * agent says it is waiting for it. The header shows the workspace and its agent's presence.
 * Screenshots at 360, 1024 and 1280 px, light and dark, go to `${tmpdir}/keel-ui-shots`.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import type { Locator, Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { textReply, toolCallReply } from "../../fakeprovider/index.ts";
import {
  addProviderAndModelViaApi,
  api,
  chatHeader,
  createOwnerViaApi,
  normalize,
  shownText,
  startChatViaUi,
  TEST_TIMEOUT,
  transcript,
  UI_TIMEOUT,
  useWeb,
  waitForTurnEnd,
} from "./support.ts";

const SHOTS = join(tmpdir(), "keel-ui-shots");

/** Screenshots of the page at the widths people use, light and dark. */
async function shoot(page: Page, name: string, focus?: Locator) {
  mkdirSync(SHOTS, { recursive: true });
  for (const width of [360, 1024, 1280]) {
    await page.setViewportSize({ width, height: 800 });
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await focus?.scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, `${name}-${width}-${scheme}.png`) });
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: "light" });
}

const card = (page: Page, tool: string) => page.locator(`.tool-card[data-tool='${tool}']`);
const header = (c: Locator) => c.locator(".tool-head");

describe("web: tools in a workspace", { timeout: TEST_TIMEOUT }, () => {
  const web = useWeb();
  let token: string;
  let dir: string;

  async function chatInWorkspace(name: string, text: string): Promise<Page> {
    const page = await web.signedInPage(token);
    await page.goto(web.url);
    await page.getByRole("combobox", { name: "Workspace" }).selectOption({ label: name });
    await startChatViaUi(page, text);
    return page;
  }

  beforeAll(async () => {
    token = await createOwnerViaApi(web.url);
    await addProviderAndModelViaApi(web.url, token, web.fake.url);
    dir = mkdtempSync(join(tmpdir(), "keel-web-workspace-"));
    const created = await api<{ id: string }>(web.url, token, "POST", "/workspaces", {
      name: "Web repo",
      directory: dir,
    });
    expect(created.status).toBe(201);
    // A workspace without a directory: no agent until someone starts one (nobody does here).
    const offline = await api(web.url, token, "POST", "/workspaces", { name: "Laptop" });
    expect(offline.status).toBe(201);
    // The server starts the first workspace's agent itself within a few seconds.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const shown = await api<{ agent: { connected: boolean } }>(
        web.url,
        token,
        "GET",
        `/workspaces/${created.body.id}`,
      );
      if (shown.body.agent.connected) break;
      if (Date.now() > deadline) throw new Error("the workspace's local agent did not connect");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  it("a command's card streams its output while it runs, then says how it ended", async () => {
    web.fake.enqueue(
      toolCallReply({
        name: "execute",
        args: { command: "for i in 1 2 3; do echo line-$i; sleep 0.4; done" },
      }),
      textReply("The command printed three lines."),
    );
    const page = await chatInWorkspace("Web repo", "Run the loop.");
    // The header names the workspace and says its agent is online.
    await expect
      .poll(() => shownText(chatHeader(page)), { timeout: UI_TIMEOUT })
      .toContain("Web repo");
    expect(await shownText(chatHeader(page))).toContain("agent online");

    const execute = card(page, "execute");
    // Mid-run: the first line is there, the last one not yet, and the card says it runs.
    const output = execute.locator(".tool-output");
    await expect.poll(() => output.textContent(), { timeout: UI_TIMEOUT }).toContain("line-1");
    expect(await shownText(execute)).toContain("Running");
    expect(await output.textContent()).not.toContain("line-3");

    await waitForTurnEnd(page);
    expect(normalize(await shownText(header(execute)))).toContain("Ran for i in 1 2 3;");
    expect(normalize(await shownText(header(execute)))).toContain("— exit 0");
    expect(await shownText(execute)).toContain("line-3");
    const text = normalize(await shownText(transcript(page)));
    expect(text).toContain("The command printed three lines.");
    // Shown once: the streamed output became the result, not a second copy.
    expect(text.split("line-2").length - 1).toBe(1);
  });

  it("long output shows its last lines, and all of them on request", async () => {
    web.fake.enqueue(
      toolCallReply({ name: "execute", args: { command: "seq 1 500" } }),
      textReply("Counted."),
    );
    const page = await chatInWorkspace("Web repo", "Count to 500.");
    await waitForTurnEnd(page);
    const output = card(page, "execute").locator(".tool-output");
    const lines = async () => ((await output.locator("pre").textContent()) ?? "").split("\n");
    expect((await lines())[0]).toBe("301");
    expect((await lines()).at(-1)).toBe("500");
    const more = output.getByRole("button", { name: /Show all 500 lines/ });
    expect(await more.getAttribute("aria-expanded")).toBe("false");
    await more.click();
    expect(await lines()).toHaveLength(500);
    expect((await lines())[0]).toBe("1");
  });

  it("an edit shows its diff, a failing command says exit 1, inputs read as fields", async () => {
    writeFileSync(join(dir, "app.ts"), "const a = 1;\nconst b = 2;\nexport { a, b };\n");
    web.fake.enqueue(
      toolCallReply([
        {
          name: "edit_file",
          args: {
            path: "app.ts",
            old_string: "const b = 2;\n",
            new_string: "const b = 3;\nconst c = 4;\n",
          },
        },
        {
          name: "write_file",
          args: { path: "notes/todo.md", content: "# TODO\n\n- ship the cards\n" },
        },
      ]),
      toolCallReply({
        name: "execute",
        args: { command: "echo 'expected 3, got 2' >&2; exit 1" },
      }),
      toolCallReply({ name: "read_file", args: { path: "app.ts" } }),
      toolCallReply({ name: "search_files", args: { pattern: "const" } }),
      textReply("Edited app.ts; the test still fails."),
    );
    const page = await chatInWorkspace("Web repo", "Fix b and run the test.");
    await waitForTurnEnd(page);
    expect(readFileSync(join(dir, "app.ts"), "utf8")).toContain("const c = 4;");

    const edit = card(page, "edit_file");
    expect(normalize(await shownText(header(edit)))).toBe("Edited app.ts (+2 −1)");
    // The diff: the old line removed, the two new ones added, at the file's line numbers.
    expect(await edit.locator(".diff-del").allInnerTexts()).toEqual([
      expect.stringContaining("const b = 2;"),
    ]);
    const added = await edit.locator(".diff-add").allInnerTexts();
    expect(added).toEqual([
      expect.stringContaining("const b = 3;"),
      expect.stringContaining("const c = 4;"),
    ]);
    expect(added[0]).toMatch(/^\s*2\b/);
    // Highlighted as code (the Markdown's highlighter): `const` is a keyword.
    expect(await edit.locator(".diff-add .hljs-keyword").count()).toBeGreaterThan(0);

    const write = card(page, "write_file");
    expect(normalize(await shownText(header(write)))).toBe("Wrote notes/todo.md (3 lines)");
    expect(await write.locator(".diff-add").count()).toBe(3);

    const failing = card(page, "execute");
    const failingHeader = normalize(await shownText(header(failing)));
    expect(failingHeader).toContain("Ran echo 'expected 3, got 2' >&2; exit 1 — exit 1");
    expect(failingHeader).not.toContain("Failed"); // a non-zero exit is a result, not a failure
    const failingText = await shownText(failing);
    expect(failingText).toContain("expected 3, got 2");
    // The command as a field, not JSON with escapes; the raw JSON behind "Details".
    expect(failingText).not.toContain('"command"');
    await failing.getByRole("button", { name: "Details" }).click();
    expect(await shownText(failing)).toContain('"command": "echo');

    const read = card(page, "read_file");
    expect(normalize(await shownText(header(read)))).toBe("Read app.ts (lines 1–4)");
    const readHead = read.getByRole("button", { name: /Read app\.ts/ });
    expect(await readHead.getAttribute("aria-expanded")).toBe("false");
    await readHead.click();
    expect(await readHead.getAttribute("aria-expanded")).toBe("true");
    expect(normalize(await shownText(read))).toContain("4 export { a, b };");

    const search = card(page, "search_files");
    expect(normalize(await shownText(header(search)))).toBe('Searched "const" — 3 matches');

    // Open cards (a diff, a preview, output, raw details), light and dark: nothing serious for
    // axe (the cards only: the message actions around them are another piece's).
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const { violations } = await new AxeBuilder({ page })
        .include(".tool-card")
        .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
        .analyze();
      const blocking = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
      expect(
        blocking.map(
          (v) =>
            `${scheme} ${v.id}: ${v.nodes.map((n) => `${n.target} ${n.failureSummary}`).join(" | ")}`,
        ),
      ).toEqual([]);
    }
    await page.emulateMedia({ colorScheme: "light" });

    await shoot(page, "tool-cards-edit", edit);
    await shoot(page, "tool-cards-read", search);
  });

  it("a Stop during a long command keeps its output and says Stopped, also after a reload", async () => {
    web.fake.enqueue(
      toolCallReply({
        name: "execute",
        args: { command: "echo compiling-1; echo compiling-2; sleep 60; echo never" },
      }),
    );
    const page = await chatInWorkspace("Web repo", "Build it.");
    const execute = card(page, "execute");
    // (The header names the command, so the output is looked for in the output box.)
    await expect
      .poll(() => execute.locator(".tool-output").textContent(), { timeout: UI_TIMEOUT })
      .toContain("compiling-2");
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, "tool-cards-running-1280-light.png") });
    await page.getByRole("button", { name: "Stop" }).click();
    await waitForTurnEnd(page);

    const check = async () => {
      await expect
        .poll(() => execute.getAttribute("data-state"), { timeout: UI_TIMEOUT })
        .toBe("stopped");
      const text = normalize(await shownText(execute));
      expect(text).toContain("Stopped");
      expect(text).not.toContain("Failed");
      const output = normalize(await shownText(execute.locator(".tool-output")));
      expect(output).toBe("compiling-1 compiling-2");
      expect(normalize(await shownText(header(execute)))).toMatch(/^Ran echo compiling-1;/);
    };
    await check();
    const title = execute.locator(".tool-title");
    expect(normalize(await shownText(title))).toMatch(/ — (<0\.1|\d+(\.\d)?) s$/);
    await shoot(page, "tool-cards-stopped", execute);
    await page.reload();
    await check();
    // How long it ran was measured as this page watched it; a fresh page did not: no time then.
    expect(normalize(await shownText(title))).not.toMatch(/ s$/);
  });

  it("a call for an offline agent says it waits for the agent", async () => {
    web.fake.enqueue(toolCallReply({ name: "list_files", args: { path: "src" } }));
    const page = await chatInWorkspace("Laptop (agent offline)", "List src.");
    await expect
      .poll(() => shownText(chatHeader(page)), { timeout: UI_TIMEOUT })
      .toContain("agent offline");
    const list = card(page, "list_files");
    await expect
      .poll(() => shownText(list), { timeout: UI_TIMEOUT })
      .toContain("Waiting for the workspace agent");
    await shoot(page, "tool-cards-waiting", list);
    // Stop it rather than wait out the server's 30 s.
    await page.getByRole("button", { name: "Stop" }).click();
    await waitForTurnEnd(page);
    await expect
      .poll(() => list.getAttribute("data-state"), { timeout: UI_TIMEOUT })
      .toBe("stopped");
    expect(await shownText(list)).not.toContain("Waiting for the workspace agent");
  });
});
