/**
 * `keel groups` in process against the real API (a served test store): it creates, lists, adds,
 * removes and deletes, naming users as a person types them, and prints the server's refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useServedApi } from "../api/testing.ts";
import type { CliIO } from "./io.ts";
import { main } from "./main.ts";

describe("keel groups", () => {
  const api = useServedApi();
  const saved = { url: process.env.KEEL_URL, token: process.env.KEEL_TOKEN };
  beforeAll(() => {
    process.env.KEEL_TOKEN = api.s.admin;
  });
  afterAll(() => {
    for (const [key, value] of [
      ["KEEL_URL", saved.url],
      ["KEEL_TOKEN", saved.token],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  async function run(...args: string[]) {
    process.env.KEEL_URL = api.served.url;
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIO = {
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
      onInterrupt: () => () => {},
      setExitCode: () => {},
    };
    const code = await main(["node", "keel", "groups", ...args], io);
    return { code, stdout: out.join(""), stderr: err.join("") };
  }

  it("creates, lists, adds, removes and deletes", async () => {
    const created = await run("create", "Research", "--member", "member");
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    expect((await api.deps.store.getGroup(id))?.user_ids).toEqual([api.s.memberId]);

    expect((await run("add", "research", "other@example.com")).stderr).toContain("2 members");
    const listed = await run("list");
    expect(listed.stdout).toContain(`${id}  Research  2 members`);
    expect(listed.stdout).toMatch(/member, other|other, member/);
    expect((await run("remove", "Research", "member")).stderr).toContain("1 member.");

    const unknown = await run("add", "Research", "nobody");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No user "nobody"');
    const twin = await run("create", "RESEARCH");
    expect(twin.code).toBe(1);
    expect(twin.stderr).toContain("already exists");

    // A model only the group may use; then everyone's again.
    const restricted = await run("restrict", "fake-1", "Research");
    expect(restricted.stderr).toContain("only Research (and admins)");
    expect((await api.deps.store.modelGroupIds())[api.s.modelId]).toEqual([id]);
    expect((await run("delete", id)).stderr).toContain("only one allowed to use");
    expect((await run("unrestrict", api.s.modelId)).stderr).toContain("everyone");
    expect((await api.deps.store.modelGroupIds())[api.s.modelId]).toBeUndefined();

    expect((await run("delete", id)).code).toBe(0);
    expect(await api.deps.store.getGroup(id)).toBeNull();
    expect((await run("delete", "Research")).stderr).toContain('No group "Research"');
  });
});
