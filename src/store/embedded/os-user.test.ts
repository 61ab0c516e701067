import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { assertReachable, clusterUser, DEFAULT_OS_USER, runningAsRoot } from "./os-user.ts";

const root = runningAsRoot();

describe("the cluster's OS user", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("refuses a name that is not an OS user name", async () => {
    await expect(clusterUser("not a user;rm")).rejects.toThrow(/not a valid OS user name/);
  });

  it.runIf(!root)("is Keel's own user when Keel is not root", async () => {
    expect(await clusterUser()).toBeUndefined();
  });

  it.runIf(root)("is an unprivileged user when Keel is root (created if missing)", async () => {
    const user = await clusterUser();
    expect(user?.name).toBe(DEFAULT_OS_USER);
    expect(user?.uid).toBeGreaterThan(0);
  });

  it.runIf(root)("says which parent directory it cannot pass through", async () => {
    const user = await clusterUser();
    if (!user) throw new Error("no cluster user");
    dir = await mkdtemp(join(tmpdir(), "keel-reach-"));
    const closed = join(dir, "closed");
    await mkdir(join(closed, "data"), { recursive: true });
    await chmod(dir, 0o755);
    await chmod(closed, 0o700);
    await expect(assertReachable(join(closed, "data"), user)).rejects.toThrow(
      `${closed} is not searchable by it`,
    );
    await chmod(closed, 0o711);
    await expect(assertReachable(join(closed, "data"), user)).resolves.toBeUndefined();
  });
});
