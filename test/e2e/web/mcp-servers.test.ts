/**
 * The admin's MCP servers page against a real MCP server (src/mcp/testing.ts): add one with an
 * Authorization header, whose value the page never shows again; check its tools; edit it while
 * keeping the stored header; disable it; delete it. Screenshots at 360 px and 1280 px go to
 * `${tmpdir}/keel-ui-shots`.
 */
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestMcpServer, type TestMcpServer } from "../../../src/mcp/testing.ts";
import { api, createOwnerViaApi, normalize, shownText, TEST_TIMEOUT, useWeb } from "./support.ts";

const SHOTS = join(tmpdir(), "keel-ui-shots");

interface McpServerBody {
  id: string;
  name: string;
  header_names: string[];
  enabled: boolean;
  tools_allow: string[] | null;
}

describe("web: MCP servers", { timeout: TEST_TIMEOUT }, () => {
  const web = useWeb();
  let token: string;
  let mcp: TestMcpServer;

  beforeAll(async () => {
    token = await createOwnerViaApi(web.url);
    mcp = await startTestMcpServer();
  });
  afterAll(async () => {
    await mcp?.close();
  });

  const listed = async () =>
    (await api<{ mcp_servers: McpServerBody[] }>(web.url, token, "GET", "/mcp-servers")).body
      .mcp_servers;

  it("adds a server with a write-only header, checks its tools, edits, disables and deletes it", async () => {
    const page = await web.signedInPage(token);
    await page.goto(web.url);
    await page
      .getByRole("navigation", { name: "Administration" })
      .getByRole("link", { name: "MCP servers" })
      .click();
    await page.getByRole("heading", { name: "MCP servers", level: 1 }).waitFor();

    const add = page.getByRole("form", { name: "Add an MCP server" });
    await add.getByLabel("Name", { exact: true }).fill("docs");
    await add.getByLabel("URL").fill(mcp.url);
    await add.getByRole("button", { name: "Add a header" }).click();
    await add.getByLabel("Header name").fill("Authorization");
    await add.getByLabel("Value").fill("Bearer web-secret-value");
    await add.getByRole("button", { name: "Add MCP server" }).click();

    const row = page.getByRole("row", { name: /docs/ });
    await row.waitFor();
    expect(normalize(await shownText(row))).toContain("Authorization");
    expect(await page.content()).not.toContain("web-secret-value");
    const [created] = await listed();
    expect(created).toMatchObject({ name: "docs", header_names: ["Authorization"], enabled: true });

    await row.getByRole("button", { name: "Check tools" }).click();
    await expect.poll(async () => normalize(await shownText(row))).toContain("docs__echo");
    expect(mcp.requests.map((h) => h.authorization)).toContain("Bearer web-secret-value");

    await mkdir(SHOTS, { recursive: true });
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      await page.screenshot({ path: join(SHOTS, `mcp-servers-${width}.png`), fullPage: true });
    }

    // Edit with the header's value left empty: the stored value is kept.
    await row.getByRole("button", { name: "Edit" }).click();
    const edit = page.getByRole("form", { name: "Edit docs" });
    await edit.getByLabel("Only these tools").fill("echo, fail");
    await edit.getByRole("button", { name: "Save" }).click();
    await edit.waitFor({ state: "detached" });
    await expect.poll(async () => normalize(await shownText(row))).toContain("only echo, fail");
    const [edited] = await listed();
    expect(edited).toMatchObject({
      tools_allow: ["echo", "fail"],
      header_names: ["Authorization"],
    });
    const before = mcp.requests.length;
    await row.getByRole("button", { name: "Check tools" }).click();
    await expect.poll(() => mcp.requests.length).toBeGreaterThan(before);
    expect(mcp.requests.at(-1)?.authorization).toBe("Bearer web-secret-value");

    // The box follows the server's answer (the list is read again), not the click itself.
    await row.getByRole("checkbox", { name: "docs enabled" }).click();
    await expect.poll(async () => (await listed())[0]?.enabled).toBe(false);
    await expect
      .poll(() => row.getByRole("checkbox", { name: "docs enabled" }).isChecked())
      .toBe(false);

    // The server's refusal is shown in its words; nothing is added.
    await add.getByLabel("Name", { exact: true }).fill("my__docs");
    await add.getByLabel("URL").fill(mcp.url);
    await add.getByRole("button", { name: "Add MCP server" }).click();
    const alert = add.getByRole("alert");
    expect(await shownText(alert)).toMatch(/not added.*name: Must not contain '__'/);
    expect(await listed()).toHaveLength(1);

    await row.getByRole("button", { name: "Delete docs" }).click();
    await page
      .getByRole("alertdialog", { name: "Delete the MCP server “docs”?" })
      .getByRole("button", { name: "Delete", exact: true })
      .click();
    await expect.poll(async () => (await listed()).length).toBe(0);
    await page.getByText("No MCP server yet.").waitFor();
  });
});
