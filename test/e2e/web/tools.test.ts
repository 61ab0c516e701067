/**
 * A chat in a workspace, in the browser: the model runs a command whose output arrives over a
 * second; its tool card shows "running…" and the lines as they come, then the result, then the
 * reply. The workspace has a server-side directory, so `keel server` runs its agent itself.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { textReply, toolCallReply } from "../../fakeprovider/index.ts";
import {
  addProviderAndModelViaApi,
  api,
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

describe("web: tools in a workspace", { timeout: TEST_TIMEOUT }, () => {
  const web = useWeb();
  let token: string;

  beforeAll(async () => {
    token = await createOwnerViaApi(web.url);
    await addProviderAndModelViaApi(web.url, token, web.fake.url);
    const dir = mkdtempSync(join(tmpdir(), "keel-web-workspace-"));
    const created = await api<{ id: string }>(web.url, token, "POST", "/workspaces", {
      name: "Web repo",
      directory: dir,
    });
    expect(created.status).toBe(201);
    // The server starts the workspace's agent itself within a few seconds.
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

  it("a tool card streams the command's output while it runs, then shows the result", async () => {
    web.fake.enqueue(
      toolCallReply({
        name: "execute",
        args: { command: "for i in 1 2 3; do echo line-$i; sleep 0.4; done" },
      }),
      textReply("The command printed three lines."),
    );
    const page = await web.signedInPage(token);
    await page.goto(web.url);
    await page.getByRole("combobox", { name: "Workspace" }).selectOption({ label: "Web repo" });
    await startChatViaUi(page, "Run the loop.");

    const card = page.locator("details.tool[data-tool='execute']");
    await card.waitFor({ timeout: UI_TIMEOUT });
    await card.locator("summary").click(); // open it, as a curious person would
    // Mid-run: the first line is there, the last one not yet, and the card says it runs.
    await expect.poll(() => shownText(card), { timeout: UI_TIMEOUT }).toContain("line-1");
    const midRun = await shownText(card);
    expect(midRun).toContain("running");
    expect(midRun).not.toContain("line-3");

    await waitForTurnEnd(page);
    const done = normalize(await shownText(card));
    expect(done).toMatch(/done|failed/);
    expect(done).toContain("line-3");
    const text = normalize(await shownText(transcript(page)));
    expect(text).toContain("The command printed three lines.");
    // Shown once: the streamed output became the result, not a second copy.
    expect(text.split("line-2").length - 1).toBe(1);
  });
});
