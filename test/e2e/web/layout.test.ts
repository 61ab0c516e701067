/**
 * The composer's layout, in the browser, at the widths people use: the message box takes the
 * composer's whole width at every window width from 360 px (a phone) to 1280 px, and the model
 * and workspace pickers wrap beside the buttons instead of squeezing it (issue 10, item 14).
 * Each width is screenshotted; 360 px and 1280 px also in the dark theme, into
 * `${os.tmpdir()}/keel-ui-shots/` for a person to look at.
 */
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { hangAfter } from "../../fakeprovider/index.ts";
import {
  addProviderAndModelViaApi,
  api,
  composer,
  createOwnerViaApi,
  startChatViaUi,
  streamingReply,
  TEST_TIMEOUT,
  useWeb,
} from "./support.ts";

const SHOTS = join(tmpdir(), "keel-ui-shots");
const WIDTHS = [360, 800, 900, 1024, 1280] as const;

/** A locator's rendered box (it must be shown). */
async function box(
  locator: Locator,
): Promise<{ x: number; y: number; width: number; height: number }> {
  const b = await locator.boundingBox();
  if (b === null) throw new Error(`${locator} is not shown`);
  return b;
}

/** Every element of the page lies within the window's width: nothing scrolls sideways. */
const scrollsSideways = async (page: Page): Promise<boolean> =>
  (await page.evaluate("document.documentElement.scrollWidth > window.innerWidth")) as boolean;

describe("web: the composer's layout", { timeout: TEST_TIMEOUT }, () => {
  const web = useWeb();
  let token: string;

  beforeAll(async () => {
    token = await createOwnerViaApi(web.url);
    await addProviderAndModelViaApi(web.url, token, web.fake.url, {
      displayName: "Fake model with a rather long display name",
    });
    // A workspace, so the new-chat page shows its picker (its agent is offline: the longest label).
    const created = await api(web.url, token, "POST", "/workspaces", {
      name: "The monorepo on the build machine",
    });
    expect(created.status).toBe(201);
    mkdirSync(SHOTS, { recursive: true });
  });

  it("new chat with the model and workspace pickers: the message box keeps the composer's width", async () => {
    const page = await web.signedInPage(token);
    await page.goto(web.url);
    const form = page.getByRole("form", { name: "Compose a message" });
    const pickers = [
      page.getByRole("combobox", { name: "Model" }),
      page.getByRole("combobox", { name: "Workspace" }),
    ];
    const start = page.getByRole("button", { name: "Start chat" });
    await pickers[1]?.waitFor();

    const widths: Record<number, { box: number; form: number }> = {};
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 800 });
      await page.emulateMedia({ colorScheme: "light" });
      const formBox = await box(form);
      const boxBox = await box(composer(page));
      widths[width] = { box: Math.round(boxBox.width), form: Math.round(formBox.width) };
      // The box is as wide as the composer, less at most its own frame.
      expect(boxBox.width, `at ${width} px`).toBeGreaterThanOrEqual(0.85 * formBox.width);
      expect(boxBox.width, `at ${width} px`).toBeGreaterThanOrEqual(Math.min(280, width));
      // The pickers and the button are all shown, inside the window.
      for (const control of [...pickers, start]) {
        const b = await box(control);
        expect(b.width, `${control} at ${width} px`).toBeGreaterThan(60);
        expect(b.x + b.width, `${control} at ${width} px`).toBeLessThanOrEqual(width);
      }
      expect(await scrollsSideways(page), `at ${width} px`).toBe(false);
      await page.screenshot({ path: join(SHOTS, `new-chat-${width}-light.png`) });
      if (width === 360 || width === 1280) {
        await page.emulateMedia({ colorScheme: "dark" });
        await page.screenshot({ path: join(SHOTS, `new-chat-${width}-dark.png`) });
      }
    }
    console.log(`new-chat message box and composer widths (px): ${JSON.stringify(widths)}`);

    // Still a working composer at the narrowest width: pick the workspace, write, start.
    await page.setViewportSize({ width: 360, height: 800 });
    await page.emulateMedia({ colorScheme: "light" });
    await page.getByRole("combobox", { name: "Workspace" }).selectOption({ index: 1 });
    web.fake.enqueue(hangAfter("Starting on the monorepo", 3));
    await startChatViaUi(page, "Look at the build");
    await streamingReply(page).getByText("Starting on the monorepo").waitFor();

    // The chat's composer while the turn runs: the box keeps the width, Stop and Send beside it.
    const boxBox = await box(composer(page));
    expect(boxBox.width).toBeGreaterThanOrEqual(0.85 * (await box(form)).width);
    for (const name of ["Stop", "Send"]) {
      const b = await box(page.getByRole("button", { name }));
      expect(b.x + b.width, name).toBeLessThanOrEqual(360);
    }
    expect(await scrollsSideways(page)).toBe(false);
    await page.screenshot({ path: join(SHOTS, "chat-running-360-light.png") });
    await page.getByRole("button", { name: "Stop", exact: true }).click();
    await expect.poll(() => web.fake.inFlight).toBe(0);

    // The box grows with what is typed (Shift+Enter for new lines), up to 40% of the window.
    const before = (await box(composer(page))).height;
    await composer(page).fill(Array.from({ length: 6 }, (_, i) => `line ${i + 1}`).join("\n"));
    const grown = (await box(composer(page))).height;
    expect(grown).toBeGreaterThan(before * 1.5);
    await composer(page).fill(Array.from({ length: 80 }, (_, i) => `line ${i + 1}`).join("\n"));
    expect((await box(composer(page))).height).toBeLessThanOrEqual(0.4 * 800 + 1);
  });
});
