import { stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase, openSqlStore } from "./index.ts";
import { MIGRATIONS, migrate } from "./migrations.ts";
import { SecretKeyError } from "./secrets.ts";
import {
  createPostgresDatabase,
  createTestDatabase,
  dropPostgresDatabase,
} from "./test-support.ts";

const OTHER_KEY = "ab".repeat(32);

describe("opening the store", () => {
  it("migrates once, reopens without migrating, and guards the server key", async () => {
    const testDb = await createTestDatabase();
    try {
      // First start: schema created, key file created with mode 0600.
      const first = await testDb.open();
      const versions = await first.db.query<{ version: number }>(
        "SELECT version FROM schema_migrations ORDER BY version",
      );
      expect(versions.map((v) => Number(v.version))).toEqual(MIGRATIONS.map((m) => m.version));
      const keyFile = await stat(join(testDb.dataDir, "secret.key"));
      expect(keyFile.mode & 0o777).toBe(0o600);
      await first.store.close();

      // Second start, with another server key: nothing left to migrate, and with no provider key
      // encrypted yet the new server key is simply adopted.
      const second = await testDb.open({ secretKey: OTHER_KEY });
      expect(await migrate(second.db)).toEqual([]);
      const [count] = await second.db.query<{ n: unknown }>(
        "SELECT count(*) AS n FROM schema_migrations",
      );
      expect(Number(count?.n)).toBe(MIGRATIONS.length);
      const provider = await second.store.createProvider({
        type: "openai",
        name: "OpenAI",
        api_key: "sk-plaintext",
      });
      await second.store.close();

      // Now the database holds a key encrypted under OTHER_KEY: the file's key is refused.
      const refused = testDb.open();
      await expect(refused).rejects.toBeInstanceOf(SecretKeyError);
      await expect(refused).rejects.toThrow(/secret key/);

      const third = await testDb.open({ secretKey: OTHER_KEY });
      expect((await third.store.providerConfig(provider.id))?.api_key).toBe("sk-plaintext");

      // A database migrated by a newer Keel is refused, not silently used.
      await third.db.query("INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')");
      await third.store.close();
      await expect(testDb.open({ secretKey: OTHER_KEY })).rejects.toThrow(/newer than this Keel/);
    } finally {
      await testDb.cleanup();
    }
  });

  it("rejects a malformed secret key before touching the database", async () => {
    await expect(
      openSqlStore({ dataDir: "/nonexistent/keel", secretKey: "too-short" }),
    ).rejects.toBeInstanceOf(SecretKeyError);
  });
});

describe("several servers on one PostgreSQL", () => {
  const urls: string[] = [];
  afterAll(async () => {
    for (const url of urls) await dropPostgresDatabase(url);
  });

  it("two servers migrating at once: one applies, the other waits and finds nothing to do", async () => {
    const url = await createPostgresDatabase({ empty: true });
    urls.push(url);
    const [db1, db2] = await Promise.all([
      openDatabase({ dataDir: "/unused", postgresUrl: url }, { poolSize: 2 }),
      openDatabase({ dataDir: "/unused", postgresUrl: url }, { poolSize: 2 }),
    ]);
    try {
      const applied = await Promise.all([migrate(db1), migrate(db2)]);
      const all = MIGRATIONS.map((m) => m.version);
      expect(applied).toEqual(expect.arrayContaining([all, []]));
      const [count] = await db1.query<{ n: unknown }>(
        "SELECT count(*) AS n FROM schema_migrations",
      );
      expect(Number(count?.n)).toBe(MIGRATIONS.length);
    } finally {
      await Promise.all([db1.close(), db2.close()]);
    }
  });

  it("two stores opening at once on a fresh database both start", async () => {
    const url = await createPostgresDatabase({ empty: true });
    urls.push(url);
    const options = { dataDir: "/unused", postgresUrl: url, secretKey: OTHER_KEY };
    const [s1, s2] = await Promise.all([
      openSqlStore(options, { poolSize: 2 }),
      openSqlStore(options, { poolSize: 2 }),
    ]);
    try {
      expect([s1.kind, s2.kind]).toEqual(["external", "external"]);
      const provider = await s1.createProvider({
        type: "openai",
        name: "OpenAI",
        api_key: "sk-shared",
      });
      expect((await s2.providerConfig(provider.id))?.api_key).toBe("sk-shared");
    } finally {
      await Promise.all([s1.close(), s2.close()]);
    }
  });
});
