/**
 * Chat retention on the admin's Settings page: both off at first, a period picked and saved,
 * read back after a reload and from the API, turned off again. Screenshots at 360, 1024 and 1280
 * px, light and dark (`shootWidths`).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { api, createOwnerViaApi, shootWidths, TEST_TIMEOUT, useWeb } from "./support.ts";

describe("web: chat retention settings", { timeout: TEST_TIMEOUT }, () => {
  const web = useWeb();
  let token: string;

  beforeAll(async () => {
    token = await createOwnerViaApi(web.url);
  });

  it("an admin turns archiving and deletion on, sees the warning, and turns them off", async () => {
    const page = await web.signedInPage(token);
    await page.goto(`${web.url}/admin/settings`);
    const form = page.getByRole("form", { name: "Retention" });
    const archive = form.getByRole("combobox", { name: "Archive idle chats" });
    const remove = form.getByRole("combobox", { name: "Delete archived chats" });
    await archive.waitFor();
    expect(await archive.inputValue()).toBe("");
    expect(await remove.inputValue()).toBe("");
    expect(await form.locator(".notice").count()).toBe(0);

    await archive.selectOption("90");
    await remove.selectOption("365");
    await form.getByText("Chats archived more than 1 year ago will be deleted").waitFor();
    await form.getByRole("button", { name: "Save" }).click();
    await form.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    const saved = await api<Record<string, unknown>>(web.url, token, "GET", "/settings");
    expect(saved.body).toMatchObject({ chat_archive_after_days: 90, chat_delete_after_days: 365 });

    await page.reload();
    await archive.waitFor();
    expect(await archive.inputValue()).toBe("90");
    expect(await remove.inputValue()).toBe("365");
    await form.scrollIntoViewIfNeeded();
    await shootWidths(page, "retention-settings");

    // A period set through the API that is not a preset is shown as it is.
    await api(web.url, token, "PATCH", "/settings", { chat_archive_after_days: 45 });
    await page.reload();
    await archive.waitFor();
    expect(await archive.inputValue()).toBe("45");
    expect(await archive.locator("option:checked").textContent()).toBe("After 45 days");

    await archive.selectOption("");
    await remove.selectOption("");
    await form.getByRole("button", { name: "Save" }).click();
    await form.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    const off = await api<Record<string, unknown>>(web.url, token, "GET", "/settings");
    expect(off.body).toMatchObject({ chat_archive_after_days: null, chat_delete_after_days: null });
  });
});
