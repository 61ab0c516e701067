/**
 * The admin's Models page: a model's temperature, output limit, reasoning effort and compaction
 * threshold are set when it is added and changed in its edit form; a setting its provider cannot
 * take is refused by the server, and the page shows the server's reason. A model without a
 * context window shows the one Keel uses (the known window of its ID) as the default.
 * Screenshots of the edit form at 360, 1024 and 1280 px, light and dark, go to
 * `${tmpdir}/keel-ui-shots`.
 */
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { api, createOwnerViaApi, normalize, shownText, TEST_TIMEOUT, useWeb } from "./support.ts";

interface ModelBody {
  id: string;
  display_name: string;
  temperature: number | null;
  max_output_tokens: number | null;
  reasoning: string | null;
  compact_at: number | null;
  context_window: number | null;
  effective_context_window: number;
}

const SHOTS = join(tmpdir(), "keel-ui-shots");

async function shoot(page: Page, name: string) {
  for (const width of [360, 1024, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({
        path: join(SHOTS, `${name}-${width}-${scheme}.png`),
        fullPage: true,
      });
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: "light" });
}

describe("web: model settings", { timeout: TEST_TIMEOUT }, () => {
  const web = useWeb();
  let token: string;

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    token = await createOwnerViaApi(web.url);
    const provider = await api(web.url, token, "POST", "/providers", {
      type: "anthropic",
      name: "Fake Anthropic",
      base_url: `${web.fake.url}/v1`,
      api_key: "sk-fake",
    });
    expect(provider.status).toBe(201);
  });

  it("adds a model with settings, edits them, and shows the server's refusal", async () => {
    const page = await web.signedInPage(token);
    await page.goto(`${web.url}/admin/models`);
    await page.getByRole("heading", { name: "Models", level: 1 }).waitFor();
    const add = page.getByRole("form", { name: "Add a model" });
    await add.getByLabel("Model ID").fill("claude-sonnet-4-5");
    await add.getByLabel("Display name").fill("Claude Thinking");
    await add.getByLabel("Max output tokens").fill("4096");
    await add.getByRole("combobox", { name: "Reasoning" }).selectOption("high");
    await add.getByLabel("Compact at (% of window)").fill("70");
    await add.getByRole("button", { name: "Add model" }).click();
    const row = page.getByRole("row", { name: /Claude Thinking/ });
    await row.waitFor();
    expect(normalize(await shownText(row))).toContain(
      "4,096 output tokens · reasoning high · compact at 70%",
    );
    // No window set: the one Keel uses for this model ID, marked as the default.
    expect(normalize(await shownText(row))).toContain("200,000 (default)");

    const listed = await api<{ models: ModelBody[] }>(web.url, token, "GET", "/models");
    const model = listed.body.models.find((m) => m.display_name === "Claude Thinking");
    expect(model).toMatchObject({
      temperature: null,
      max_output_tokens: 4096,
      reasoning: "high",
      compact_at: 0.7,
      context_window: null,
      effective_context_window: 200_000,
    });

    // A temperature while Anthropic thinks: the server refuses and the form says why.
    await row.getByRole("button", { name: "Edit Claude Thinking" }).click();
    const edit = page.getByRole("form", { name: "Edit Claude Thinking" });
    expect(await edit.getByLabel("Compact at (% of window)").inputValue()).toBe("70");
    expect(await edit.getByLabel("Context window").getAttribute("placeholder")).toBe("200,000");
    await shoot(page, "models-edit");
    await edit.getByLabel("Temperature").fill("0.5");
    await edit.getByRole("button", { name: "Save" }).click();
    const alert = edit.getByRole("alert");
    expect(await shownText(alert)).toMatch(/Not saved\..*temperature while thinking.*reasoning:/);

    // Reasoning off: the temperature is taken; an emptied field goes back to the default.
    await edit.getByRole("combobox", { name: "Reasoning" }).selectOption("off");
    await edit.getByLabel("Max output tokens").fill("");
    await edit.getByLabel("Compact at (% of window)").fill("");
    await edit.getByRole("button", { name: "Save" }).click();
    await edit.waitFor({ state: "detached" });
    await expect
      .poll(async () => normalize(await shownText(row)))
      .toContain("temperature 0.5 · reasoning off");
    const saved = await api<ModelBody>(web.url, token, "GET", `/models/${model?.id}`);
    expect(saved.body).toMatchObject({
      temperature: 0.5,
      max_output_tokens: null,
      reasoning: "off",
      compact_at: null,
    });
  });
});
