import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RelayMessage } from "./contract.ts";
import type { SqlStore } from "./store.ts";
import { createTestDatabase, type TestDatabase, until } from "./test-support.ts";

describe("relayed agent calls", () => {
  let testDb: TestDatabase;
  let origin: SqlStore;
  let target: SqlStore;
  let workspaceId: string;
  const heard = { origin: [] as RelayMessage[], target: [] as RelayMessage[] };
  const unlisten: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    testDb = await createTestDatabase();
    origin = (await testDb.open()).store;
    target = (await testDb.open()).store;
    const owner = await origin.createFirstUser({
      username: "o",
      email: "o@example.com",
      password: "password",
    });
    workspaceId = (
      await origin.workspaces.create({ owner_id: owner.id, name: "w", directory: null })
    ).workspace.id;
    unlisten.push(
      await origin.workspaces.calls.listen(
        "origin",
        (m) => heard.origin.push(m),
        () => {},
      ),
      await target.workspaces.calls.listen(
        "target",
        (m) => heard.target.push(m),
        () => {},
      ),
    );
  });
  afterAll(async () => {
    for (const stop of unlisten) await stop();
    await testDb?.cleanup();
  });

  const newCall = (id: string, input: unknown = { path: "a" }) => ({
    id,
    workspace_id: workspaceId,
    origin: "origin",
    target: "target",
    tool: "write_file",
    input,
  });

  it("a call is claimed once by its target, with its input intact (a NUL included)", async () => {
    const input = { path: "a", content: `nul\u0000 and "quotes" ${"y".repeat(20_000)}` };
    await origin.workspaces.calls.send(newCall("c1", input));
    await until(() => heard.target.some((m) => m.t === "call" && m.id === "c1"));
    expect(await target.workspaces.calls.pendingFor("target")).toEqual(["c1"]);
    const claimed = await target.workspaces.calls.claim("c1", "target");
    expect(claimed).toMatchObject({ id: "c1", origin: "origin", cancelled: false });
    expect(claimed?.input).toEqual(input);
    expect(await target.workspaces.calls.claim("c1", "target")).toBeNull();
    expect(await target.workspaces.calls.claim("c1", "elsewhere")).toBeNull();

    await target.workspaces.calls.finish("origin", "target", "c1", {
      output: "ok",
      is_error: false,
    });
    await until(() => heard.origin.some((m) => m.t === "done" && m.id === "c1"));
    const [state] = await origin.workspaces.calls.states(["c1"]);
    expect(state).toMatchObject({ state: "done", result: { output: "ok", is_error: false } });
    // Done is final: sending it again does not reopen it.
    await origin.workspaces.calls.send(newCall("c1", input));
    expect(await target.workspaces.calls.claim("c1", "target")).toBeNull();
    await origin.workspaces.calls.remove("c1");
    expect(await origin.workspaces.calls.states(["c1"])).toEqual([]);
  });

  it("Stop before the claim is seen by the claim; a released call can be sent again", async () => {
    await origin.workspaces.calls.send(newCall("c2"));
    await origin.workspaces.calls.cancel("c2");
    await until(() => heard.target.some((m) => m.t === "cancel" && m.id === "c2"));
    expect(await target.workspaces.calls.claim("c2", "target")).toMatchObject({ cancelled: true });

    await origin.workspaces.calls.send(newCall("c3"));
    expect(await target.workspaces.calls.claim("c3", "target")).not.toBeNull();
    await target.workspaces.calls.release("origin", "target", "c3");
    await until(() => heard.origin.some((m) => m.t === "gone" && m.id === "c3"));
    expect((await origin.workspaces.calls.states(["c3"]))[0]).toMatchObject({
      state: "pending",
      target: null,
    });
    // Sent again with the same id, it is claimed again (by the next connection's replica).
    await origin.workspaces.calls.send(newCall("c3"));
    expect(await target.workspaces.calls.claim("c3", "target")).not.toBeNull();
    // Sent again to the target that holds it: it is not claimable a second time.
    await origin.workspaces.calls.send(newCall("c3"));
    expect(await target.workspaces.calls.claim("c3", "target")).toBeNull();
  });

  it("output longer than a NOTIFY arrives whole and in order, however it escapes", async () => {
    heard.origin.length = 0;
    // Control characters escape to six bytes each in JSON; an emoji is a surrogate pair.
    const delta = `${"\u0001".repeat(5_000)}😀${"é".repeat(3_000)}😀end`;
    await target.workspaces.calls.output("origin", "target", "c4", delta);
    await until(() =>
      heard.origin.some((m) => m.t === "out" && m.id === "c4" && m.d.endsWith("end")),
    );
    const pieces = heard.origin.flatMap((m) => (m.t === "out" && m.id === "c4" ? [m.d] : []));
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join("")).toBe(delta);
  });
});
