/**
 * Accessibility of every page (issue 12): axe-core (`@axe-core/playwright`, WCAG 2.x A and AA
 * rules) over each page the UI has — first-run setup, sign-in, a new chat, a chat with a reply, the
 * user's instructions, workspaces and each admin page — in light and dark, at 1280 px and 360 px.
 * No serious or critical violation may remain; each one found is listed with its rule, impact and
 * the elements it names, so a failure says what to fix.
 */
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { textReply } from "../../fakeprovider/index.ts";
import {
  addProviderAndModelViaApi,
  createOwnerViaApi,
  startChatViaUi,
  TEST_TIMEOUT,
  useWeb,
  waitForTurnEnd,
} from "./support.ts";

/** The violations that block: serious and critical, as rule, impact and the first elements. */
async function blockingViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes
          .slice(0, 3)
          .map((n) => n.target.join(" "))
          .join(" | ")}`,
    );
}

const PAGES = [
  ["a new chat", "/"],
  ["your instructions", "/settings/instructions"],
  ["workspaces", "/workspaces"],
  ["providers", "/admin/providers"],
  ["models", "/admin/models"],
  ["MCP servers", "/admin/mcp-servers"],
  ["users", "/admin/users"],
  ["settings", "/admin/settings"],
  ["audit log", "/admin/audit"],
] as const;

describe("web: accessibility (axe-core)", { timeout: TEST_TIMEOUT * 2 }, () => {
  const web = useWeb();
  let token: string;

  it("the check finds what it should (a control: a nameless button, an image without alt)", async () => {
    const page = await web.newPage();
    await page.setContent(
      '<html lang="en"><title>x</title><main><button></button><img src="x.png"></main></html>',
    );
    const found = await blockingViolations(page);
    expect(found.some((v) => v.startsWith("button-name"))).toBe(true);
    expect(found.some((v) => v.startsWith("image-alt"))).toBe(true);
  });

  it("first-run setup and sign-in have no serious or critical violation", async () => {
    const page = await web.newPage();
    await page.goto(web.url);
    await page.getByRole("button", { name: /create/i }).waitFor();
    expect(await blockingViolations(page)).toEqual([]);
  });

  describe("signed in", () => {
    beforeAll(async () => {
      token = await createOwnerViaApi(web.url);
      await addProviderAndModelViaApi(web.url, token, web.fake.url);
    });

    // One test per page and scheme: the whole walk in one outgrew its time limit on a busy machine.
    for (const scheme of ["light", "dark"] as const) {
      for (const [name, path] of PAGES) {
        it(`${name}, ${scheme}, at 1280 and 360 px`, async () => {
          const page = await web.signedInPage(token);
          await page.emulateMedia({ colorScheme: scheme });
          for (const width of [1280, 360]) {
            await page.setViewportSize({ width, height: 800 });
            await page.goto(`${web.url}${path}`);
            await page.getByRole("heading", { level: 1 }).first().waitFor();
            const found = await blockingViolations(page);
            expect(found, `${name} (${scheme}, ${width} px)`).toEqual([]);
          }
        });
      }
    }

    it("a chat with a reply, light and dark", async () => {
      const page = await web.signedInPage(token);
      web.fake.enqueue(textReply("Here is some `code` and a list:\n\n- one\n- two"));
      await page.goto(web.url);
      await startChatViaUi(page, "Show me something");
      await waitForTurnEnd(page);
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        expect(await blockingViolations(page), scheme).toEqual([]);
      }
      // A screen reader hears the chat's status change, not every streamed word: the transcript
      // is no live region; a status line says "Ready." when the reply is done.
      expect(await page.locator(".transcript-inner").getAttribute("aria-live")).toBeNull();
      await page.locator(".transcript").getByRole("status").filter({ hasText: "Ready." }).waitFor();
    });

    it("an open menu, the delete dialog and a toast, light and dark", async () => {
      const page = await web.signedInPage(token);
      web.fake.enqueue(textReply("Noted."));
      await page.goto(web.url);
      await startChatViaUi(page, "Remember this");
      await waitForTurnEnd(page);
      const options = page.getByRole("button", { name: /^Options for / }).first();
      const check = async (what: string) => {
        for (const scheme of ["light", "dark"] as const) {
          await page.emulateMedia({ colorScheme: scheme });
          expect(await blockingViolations(page), `${what} (${scheme})`).toEqual([]);
        }
      };
      await options.click();
      await page.getByRole("menu").waitFor();
      await check("the menu");
      await page.getByRole("menuitem", { name: "Delete…" }).click();
      await page.getByRole("alertdialog").waitFor();
      await check("the delete dialog");
      await page.keyboard.press("Escape");
      await options.click();
      await page.getByRole("menuitem", { name: "Archive" }).click();
      await page
        .getByRole("region", { name: /^Notifications/ })
        .getByRole("listitem")
        .waitFor();
      await check("a toast");
    });
  });
});
