/**
 * Setup that forgives mistakes, in the browser: an OpenAI-compatible provider added with a wrong
 * base URL → "Test connection" says what is wrong in a chat's words → the admin fixes the URL in
 * the provider's edit form (the key left empty, so kept) → "Test connection" ✓ → a chat works.
 * Deletes that would break something are refused with the server's reason. Screenshots of both
 * admin pages at 360, 1024 and 1280 px, light and dark, go to `${tmpdir}/keel-ui-shots`
 * (`shootWidths`).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { textReply } from "../../fakeprovider/index.ts";
import { freePort } from "../support/keel-process.ts";
import {
  api,
  createOwnerViaApi,
  normalize,
  shootWidths,
  shownText,
  startChatViaUi,
  TEST_TIMEOUT,
  transcript,
  UI_TIMEOUT,
  useWeb,
  waitForTurnEnd,
} from "./support.ts";

const KEY = "sk-setup-key-5f4e3d";

/** Serious and critical WCAG 2.1 A/AA violations (as accessibility.test.ts counts them). */
async function blocking(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(" | ")}`);
}

const adminNav = (page: Page, name: string) =>
  page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name }).click();

describe("web: a setup mistake, fixed", { timeout: TEST_TIMEOUT * 2 }, () => {
  const web = useWeb();
  let token: string;

  beforeAll(async () => {
    token = await createOwnerViaApi(web.url);
  });

  it("wrong base URL → the test says so → fixed in the edit form → ✓ → a chat works", async () => {
    const page = await web.signedInPage(token);
    await page.goto(`${web.url}/admin/providers`);
    await page.getByRole("heading", { name: "Providers", level: 1 }).waitFor();

    // The mistake: a base URL where nothing listens.
    const wrong = `http://127.0.0.1:${await freePort()}/v1`;
    const add = page.getByRole("form", { name: "Add a provider" });
    await add.getByRole("combobox", { name: /^Type/ }).selectOption("openai-compatible");
    await add.getByLabel("Name").fill("Local LLM");
    await add.getByLabel("Base URL").fill(wrong);
    await add.getByLabel("API key").fill(KEY);
    await add.getByRole("button", { name: "Add provider" }).click();
    const row = page.getByRole("row", { name: /Local LLM/ }).first();
    await row.waitFor();

    // A model for it, typed by hand: the provider cannot list its models from there.
    await adminNav(page, "Models");
    const addModel = page.getByRole("form", { name: "Add a model" });
    const modelId = addModel.getByLabel("Model ID");
    await expect
      .poll(async () => normalize(await shownText(addModel)), { timeout: UI_TIMEOUT })
      .toContain("Its model list failed");
    await modelId.fill("fake-model");
    await addModel.getByLabel("Display name").fill("Local model");
    await addModel.getByRole("button", { name: "Add model" }).click();
    await page.getByRole("row", { name: /Local model/ }).waitFor();
    await shootWidths(page, "models-add");

    // Test connection: the failure in the words a chat would show, the key nowhere.
    await adminNav(page, "Providers");
    await row.getByRole("button", { name: "Test connection to Local LLM" }).click();
    const status = row.getByRole("status");
    await expect
      .poll(async () => normalize(await shownText(status)), { timeout: UI_TIMEOUT })
      .toMatch(/^✗ The connection to Local LLM was interrupted\./);
    expect(await shownText(page.locator("body"))).not.toContain(KEY);
    expect(web.fake.requests).toHaveLength(0);

    // The fix: the base URL in the edit form; the key field left empty keeps the key.
    await row.getByRole("button", { name: "Edit Local LLM" }).click();
    const edit = page.getByRole("form", { name: "Edit Local LLM" });
    expect(await edit.getByLabel("Base URL").inputValue()).toBe(wrong);
    expect(normalize(await shownText(edit))).toContain("A key is set. Leave empty to keep it.");
    await shootWidths(page, "providers-edit");
    // The failed test's words, the edit form and its hints: readable by everyone.
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      expect(await blocking(page), scheme).toEqual([]);
    }
    await page.emulateMedia({ colorScheme: "light" });
    await edit.getByLabel("Base URL").fill(`${web.fake.url}/v1`);
    await edit.getByRole("button", { name: "Save" }).click();
    await edit.waitFor({ state: "detached" });
    await expect
      .poll(async () => normalize(await shownText(row)), { timeout: UI_TIMEOUT })
      .toContain(`${web.fake.url}/v1`);
    expect(normalize(await shownText(status))).toBe("not tested");

    web.fake.enqueue(textReply("OK"));
    await row.getByRole("button", { name: "Test connection to Local LLM" }).click();
    await expect
      .poll(async () => normalize(await shownText(status)), { timeout: UI_TIMEOUT })
      .toMatch(/^✓ Connected · [\d,]+ ms$/);
    const probe = web.fake.requests.filter((r) => r.method === "POST");
    expect(probe.map((r) => [r.model, r.headers.authorization])).toEqual([
      ["fake-model", `Bearer ${KEY}`],
    ]);
    await shootWidths(page, "providers-tested");

    // A chat works.
    web.fake.enqueue(textReply("Hello from the fixed provider."));
    await page.getByRole("link", { name: "New chat" }).click();
    await startChatViaUi(page, "Does it work now?");
    await transcript(page).getByText("Hello from the fixed provider.").waitFor();
    await waitForTurnEnd(page);

    // Deletes that would break something: refused, with what to do.
    await adminNav(page, "Providers");
    await row.getByRole("button", { name: "Delete Local LLM" }).click();
    // Asked first, in the page's own dialog (not the browser's confirm()).
    const confirm = page.getByRole("alertdialog", { name: "Delete the provider “Local LLM”?" });
    await confirm.waitFor();
    await shootWidths(page, "providers-delete-dialog");
    await confirm.getByRole("button", { name: "Delete", exact: true }).click();
    await expect
      .poll(async () => normalize(await shownText(page.getByRole("alert"))), {
        timeout: UI_TIMEOUT,
      })
      .toBe("This provider has 1 model: delete it or move it to another provider first.");
    await adminNav(page, "Models");
    const modelRow = page.getByRole("row", { name: /Local model/ });
    await modelRow.getByRole("button", { name: "Delete Local model" }).click();
    await page
      .getByRole("alertdialog", { name: "Delete the model “Local model”?" })
      .getByRole("button", { name: "Delete", exact: true })
      .click();
    await expect
      .poll(async () => normalize(await shownText(page.getByRole("alert"))), {
        timeout: UI_TIMEOUT,
      })
      .toMatch(/^1 chat uses this model — disable it instead/);
    await shootWidths(page, "models-delete-refused");
    expect(await blocking(page)).toEqual([]);
    // The way out, offered beside the refusal.
    await page.getByRole("button", { name: "Disable Local model" }).click();
    await expect
      .poll(() => modelRow.getByRole("checkbox", { name: "Enabled: Local model" }).isChecked())
      .toBe(false);
    expect(await page.getByRole("alert").count()).toBe(0);
  });

  it("adding a model offers the models the provider lists", async () => {
    // An OpenAI-compatible server that lists two models (the fake provider serves no list).
    const lister = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ data: [{ id: "qwen-coder" }, { id: "llama-4", name: "Llama 4" }] }));
    });
    await new Promise<void>((resolve) => lister.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = lister.address() as AddressInfo;
      const created = await api(web.url, token, "POST", "/providers", {
        type: "openai-compatible",
        name: "Lister",
        base_url: `http://127.0.0.1:${port}/v1`,
      });
      expect(created.status).toBe(201);
      const page = await web.signedInPage(token);
      await page.goto(`${web.url}/admin/models`);
      const addModel = page.getByRole("form", { name: "Add a model" });
      await addModel.getByRole("combobox", { name: /^Provider/ }).selectOption({ label: "Lister" });
      await expect
        .poll(async () => normalize(await shownText(addModel)), { timeout: UI_TIMEOUT })
        .toContain("The provider lists 2: type to search them, or any other ID.");
      const listId = await addModel.getByLabel("Model ID").getAttribute("list");
      const offered = page.locator(`datalist[id="${listId}"] option`);
      const values = await Promise.all((await offered.all()).map((o) => o.getAttribute("value")));
      expect(values).toEqual(["llama-4", "qwen-coder"]);
      await addModel.getByLabel("Model ID").fill("llama-4");
      await addModel.getByRole("button", { name: "Add model" }).click();
      await page.getByRole("row", { name: /llama-4/ }).waitFor();
    } finally {
      await new Promise((resolve) => lister.close(resolve));
    }
  });
});
