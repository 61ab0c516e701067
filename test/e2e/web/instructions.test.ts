/**
 * "Your instructions" (linked beside "Signed in as") and a chat's "Instructions in effect" panel
 * (collapsed by default, each layer with its source). Screenshots at 360 px and 1280 px, light and
 * dark, go to `${tmpdir}/keel-ui-shots`.
 */
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { textReply } from "../../fakeprovider/index.ts";
import {
  addProviderAndModelViaApi,
  api,
  createOwnerViaApi,
  shownText,
  TEST_TIMEOUT,
  useWeb,
} from "./support.ts";

const SHOTS = join(tmpdir(), "keel-ui-shots");

describe("web: instructions", { timeout: TEST_TIMEOUT }, () => {
  const web = useWeb();
  let token: string;
  let modelId: string;

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    token = await createOwnerViaApi(web.url);
    ({ modelId } = await addProviderAndModelViaApi(web.url, token, web.fake.url));
  });

  async function shoot(page: import("playwright-core").Page, name: string) {
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.screenshot({ path: join(SHOTS, `${name}-${width}-${scheme}.png`) });
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: "light" });
  }

  it("a user saves their instructions; a chat shows every layer in effect, collapsed at first", async () => {
    const page = await web.signedInPage(token);
    await page.goto(web.url);
    await page.getByRole("link", { name: "Your instructions" }).click();
    await page.getByRole("heading", { name: "Your instructions", level: 1 }).waitFor();
    const form = page.getByRole("form", { name: "Instructions for your chats" });
    const box = form.getByRole("textbox", { name: "Your instructions" });
    await box.waitFor();
    expect(await shownText(form.locator(".char-count"))).toBe("0 / 10,000 characters");
    await box.fill("Answer in British English.\nPrefer small commits.");
    await form.getByRole("button", { name: "Save" }).click();
    await form.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    const me = await api<{ user: { instructions: string } }>(web.url, token, "GET", "/users/me");
    expect(me.body.user.instructions).toBe("Answer in British English.\nPrefer small commits.");
    await page.reload();
    await box.waitFor();
    expect(await box.inputValue()).toBe("Answer in British English.\nPrefer small commits.");
    await shoot(page, "instructions-page");

    // Over the limit: the server's refusal, naming the field.
    await box.fill("x".repeat(10_001));
    await form.getByRole("button", { name: "Save" }).click();
    const error = form.locator(".error-box");
    await error.waitFor();
    expect(await shownText(error)).toContain("Your instructions were not saved.");
    expect(await shownText(error)).toContain("instructions");
    await page.reload();
    await box.waitFor();

    await api(web.url, token, "PATCH", "/settings", { system_prompt: "Be kind to reviewers." });
    web.fake.enqueue(textReply("Noted."));
    const created = await api<{ id: string }>(web.url, token, "POST", "/chats", {
      model_id: modelId,
      content: [{ type: "text", text: "hello" }],
    });
    await page.goto(`${web.url}/chats/${created.body.id}`);
    const panel = page.locator("details.instructions-panel");
    await panel.locator("summary").filter({ hasText: "Instructions in effect" }).waitFor();
    expect(await panel.getAttribute("open")).toBeNull(); // collapsed by default
    await shoot(page, "instructions-panel-closed");
    await panel.locator("summary").click();
    const layers = panel.locator(".instruction-layers > li");
    await layers.nth(2).waitFor();
    expect(
      await layers.evaluateAll((items) => items.map((li) => li.getAttribute("data-source"))),
    ).toEqual(["keel", "deployment", "user"]);
    expect(await shownText(layers.nth(0).locator("h3"))).toBe("Keel (built in)");
    expect(await shownText(layers.nth(1))).toContain("Be kind to reviewers.");
    expect(await shownText(layers.nth(2).locator("h3"))).toBe("The chat owner's instructions");
    expect(await shownText(layers.nth(2))).toContain("Prefer small commits.");
    await shoot(page, "instructions-panel-open");
    await api(web.url, token, "PATCH", "/settings", { system_prompt: null });
  });
});
