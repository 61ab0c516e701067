/**
 * Groups and model access in the browser: the admin creates a group on the Groups page (picking
 * its members by search), limits a model to it on the Models page, and a member outside the
 * group no longer finds that model in their picker — while a member inside it does.
 */
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  addProviderAndModelViaApi,
  api,
  createOwnerViaApi,
  shootWidths,
  TEST_TIMEOUT,
  useWeb,
} from "./support.ts";

const CAROL = { username: "carol", email: "carol@example.com", password: "carol's password" };
const DAVE = { username: "dave", email: "dave@example.com", password: "dave's long password" };

/** Serious and critical axe-core violations (WCAG 2.x A and AA), light and dark, as the
 * accessibility suite counts them. */
async function blockingViolations(page: Page): Promise<string[]> {
  const found: string[] = [];
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    const results = await new AxeBuilder({ page })
      .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
      .analyze();
    for (const v of results.violations) {
      if (v.impact !== "serious" && v.impact !== "critical") continue;
      const nodes = v.nodes.slice(0, 3).map((n) => n.target.join(" "));
      found.push(`${scheme}: ${v.id} (${v.impact}): ${v.help} — ${nodes.join(" | ")}`);
    }
  }
  await page.emulateMedia({ colorScheme: "light" });
  return found;
}

describe("web: groups and model access", { timeout: 2 * TEST_TIMEOUT }, () => {
  const web = useWeb();
  let token: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    token = await createOwnerViaApi(web.url);
    const { providerId } = await addProviderAndModelViaApi(web.url, token, web.fake.url, {
      displayName: "Open model",
    });
    const secret = await api(web.url, token, "POST", "/models", {
      provider_id: providerId,
      model: "fake-secret",
      display_name: "Secret model",
    });
    expect(secret.status).toBe(201);
    for (const user of [CAROL, DAVE]) {
      expect(
        (await api(web.url, token, "POST", "/users", { ...user, role: "member" })).status,
      ).toBe(201);
      const login = await api<{ session_token: string }>(
        web.url,
        undefined,
        "POST",
        "/users/login",
        {
          email: user.email,
          password: user.password,
        },
      );
      tokens[user.username] = login.body.session_token;
    }
  });

  async function pickerOptions(memberToken: string): Promise<string[]> {
    const page = await web.signedInPage(memberToken);
    await page.goto(web.url);
    const picker = page.getByRole("combobox", { name: "Model" });
    await picker.waitFor();
    return picker.locator("option").allTextContents();
  }

  it("an admin limits a model to a group; a member outside it does not see it", async () => {
    expect(await pickerOptions(tokens.carol ?? "")).toContain("Secret model");

    const admin = await web.signedInPage(token);
    await admin.goto(web.url);
    await admin
      .getByRole("navigation", { name: "Administration" })
      .getByRole("link", { name: "Groups" })
      .click();
    await admin.getByRole("heading", { name: "Groups", level: 1 }).waitFor();
    await admin.getByText("No group yet.").waitFor();

    // Create "Research" with Dave, found by searching.
    const form = admin.getByRole("form", { name: "Create a group" });
    await form.getByLabel("Name").fill("Research");
    await form.getByRole("searchbox", { name: "Find people" }).fill("dav");
    await expect.poll(() => form.getByRole("checkbox").count()).toBe(1);
    await form.getByRole("checkbox", { name: /dave/ }).check();
    await form.getByRole("list", { name: "Chosen members" }).getByText("dave").waitFor();
    await form.getByRole("searchbox", { name: "Find people" }).fill("");
    await shootWidths(admin, "groups-create");
    expect(await blockingViolations(admin)).toEqual([]);
    await form.getByRole("button", { name: "Create group" }).click();
    const row = admin.getByRole("row", { name: /Research/ });
    await row.waitFor();
    expect(await row.textContent()).toContain("dave");

    // Limit "Secret model" to Research on the Models page.
    await admin
      .getByRole("navigation", { name: "Administration" })
      .getByRole("link", { name: "Models" })
      .click();
    await admin.getByRole("heading", { name: "Models", level: 1 }).waitFor();
    await admin.getByRole("button", { name: "Edit Secret model" }).click();
    const edit = admin.getByRole("form", { name: "Edit Secret model" });
    await edit.getByRole("radio", { name: /Only these groups/ }).check();
    await edit.getByRole("checkbox", { name: "Research" }).check();
    await shootWidths(admin, "groups-model-access");
    expect(await blockingViolations(admin)).toEqual([]);
    await edit.getByRole("button", { name: "Save" }).click();
    await edit.waitFor({ state: "detached" });
    const modelRow = admin.getByRole("row", { name: /Secret model/ });
    await expect.poll(() => modelRow.textContent()).toContain("Research");

    // Carol (not in Research) no longer has it; Dave does.
    const carolSees = await pickerOptions(tokens.carol ?? "");
    expect(carolSees).toContain("Open model");
    expect(carolSees).not.toContain("Secret model");
    expect(await pickerOptions(tokens.dave ?? "")).toContain("Secret model");

    // The groups page shows the group with its member count and the model limited to it.
    await admin
      .getByRole("navigation", { name: "Administration" })
      .getByRole("link", { name: "Groups" })
      .click();
    await expect
      .poll(() => admin.getByRole("row", { name: /Research/ }).textContent())
      .toContain("Secret model");
    await shootWidths(admin, "groups-list");
    expect(await blockingViolations(admin)).toEqual([]);

    // Deleting the model's only group is refused, with the reason under the row.
    await admin.getByRole("button", { name: "Delete Research" }).click();
    await admin.getByRole("alertdialog").getByRole("button", { name: "Delete" }).click();
    await admin.getByText(/only one allowed to use "Secret model"/).waitFor();
  });
});
