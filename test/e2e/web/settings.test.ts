/**
 * The admin's Settings page: the deployment's system prompt (with its character count), the
 * title model and the summary model are saved, read back after a reload, and the server's refusal is shown as it says
 * it. Screenshots at 360, 1024 and 1280 px, light and dark, go to `${tmpdir}/keel-ui-shots`.
 */
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  addProviderAndModelViaApi,
  api,
  createOwnerViaApi,
  shownText,
  TEST_TIMEOUT,
  useWeb,
} from "./support.ts";

const SHOTS = join(tmpdir(), "keel-ui-shots");

describe("web: deployment settings", { timeout: TEST_TIMEOUT }, () => {
  const web = useWeb();
  let token: string;
  let modelId: string;

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    token = await createOwnerViaApi(web.url);
    ({ modelId } = await addProviderAndModelViaApi(web.url, token, web.fake.url));
  });

  it("an admin sets the system prompt, the title and summary models; the server's error is shown", async () => {
    const page = await web.signedInPage(token);
    await page.goto(web.url);
    await page
      .getByRole("navigation", { name: "Administration" })
      .getByRole("link", { name: "Settings" })
      .click();
    await page.getByRole("heading", { name: "Settings", level: 1 }).waitFor();
    const form = page.getByRole("form", { name: "Deployment" });
    const prompt = form.getByRole("textbox", { name: "System prompt" });
    const titleModel = form.getByRole("combobox", { name: "Title model" });
    const summaryModel = form.getByRole("combobox", { name: "Summary model" });
    const defaultModel = form.getByRole("combobox", { name: "Default model for new chats" });
    await prompt.waitFor();
    expect(await shownText(form.locator(".char-count"))).toBe("0 / 20,000 characters");

    await prompt.fill("Answer in British English.\nPrefer small commits.");
    expect(await shownText(form.locator(".char-count"))).toBe("48 / 20,000 characters");
    await titleModel.selectOption(modelId);
    await summaryModel.selectOption(modelId);
    await defaultModel.selectOption(modelId);
    await form.getByRole("button", { name: "Save" }).click();
    await form.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    const saved = await api<{
      system_prompt: string;
      title_model_id: string;
      summary_model_id: string;
    }>(web.url, token, "GET", "/settings");
    expect(saved.body).toMatchObject({
      system_prompt: "Answer in British English.\nPrefer small commits.",
      title_model_id: modelId,
      summary_model_id: modelId,
      default_model_id: modelId,
    });

    // A reload shows what the server holds.
    await page.reload();
    await prompt.waitFor();
    expect(await prompt.inputValue()).toBe("Answer in British English.\nPrefer small commits.");
    expect(await titleModel.inputValue()).toBe(modelId);
    expect(await summaryModel.inputValue()).toBe(modelId);
    expect(await defaultModel.inputValue()).toBe(modelId);

    for (const width of [360, 1024, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.screenshot({ path: join(SHOTS, `settings-${width}-${scheme}.png`) });
      }
    }
    await page.emulateMedia({ colorScheme: "light" });

    // Over the limit: the server refuses, the page says why, nothing changed.
    await prompt.fill("x".repeat(20_001));
    expect(await shownText(form.locator(".char-count"))).toBe("20,001 / 20,000 characters");
    await form.getByRole("button", { name: "Save" }).click();
    const error = form.locator(".error-box");
    await error.waitFor();
    expect(await shownText(error)).toContain("The settings were not saved.");
    expect(await shownText(error)).toContain("system_prompt");
    await page.screenshot({ path: join(SHOTS, "settings-1280-error.png") });
    expect(
      (await api<{ system_prompt: string }>(web.url, token, "GET", "/settings")).body.system_prompt,
    ).toBe("Answer in British English.\nPrefer small commits.");

    // Cleared: no deployment prompt, each chat's own model.
    await prompt.fill("");
    await titleModel.selectOption("");
    await summaryModel.selectOption("");
    await defaultModel.selectOption("");
    await form.getByRole("button", { name: "Save" }).click();
    await form.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    // The other settings (spend limit, retention, audit) are tested with their parts.
    expect((await api(web.url, token, "GET", "/settings")).body).toMatchObject({
      system_prompt: null,
      title_model_id: null,
      summary_model_id: null,
      default_model_id: null,
    });
  });
});
