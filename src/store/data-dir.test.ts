import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DataDirError, preparePrivateDataDir } from "./data-dir.ts";
import { loadSecretKey, SecretKeyError } from "./secrets.ts";

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe("the data directory", () => {
  let parent: string;
  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), "keel-datadir-"));
  });
  afterEach(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it("is created private, parents included", async () => {
    const dir = join(parent, "a", "data");
    await preparePrivateDataDir(dir);
    expect(await mode(dir)).toBe(0o700);
  });

  it("is put right while empty (an operator's `mkdir`)", async () => {
    const dir = join(parent, "data");
    await mkdir(dir);
    await chmod(dir, 0o755);
    await preparePrivateDataDir(dir);
    expect(await mode(dir)).toBe(0o700);
  });

  it.each([0o755, 0o750, 0o702, 0o770])(
    "holding data with mode %o is refused with the chmod to run",
    async (open) => {
      const dir = join(parent, "data");
      await mkdir(dir);
      await writeFile(join(dir, "secret.key"), "x", { mode: 0o600 });
      await chmod(dir, open);
      const prepared = preparePrivateDataDir(dir);
      await expect(prepared).rejects.toSatisfy(DataDirError.isInstance);
      await expect(prepared).rejects.toThrow(`chmod 700 ${dir}`);
      expect(await mode(dir)).toBe(open);
    },
  );

  it("a secret.key others may read or write is refused with the chmod to run", async () => {
    const dir = join(parent, "data");
    await loadSecretKey(dir);
    const file = join(dir, "secret.key");
    expect(await mode(file)).toBe(0o600);
    expect(await mode(dir)).toBe(0o700);
    await chmod(file, 0o644);
    const loaded = loadSecretKey(dir);
    await expect(loaded).rejects.toBeInstanceOf(SecretKeyError);
    await expect(loaded).rejects.toThrow(`chmod 600 ${file}`);
  });
});
