import { randomBytes, scryptSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PasswordHashingBusyError } from "./contract.ts";
import {
  ARGON2_PARAMS,
  HashSlots,
  hashPassword,
  needsRehash,
  PASSWORD_HASHING,
  passwordHashing,
  verifyPassword,
} from "./credentials.ts";
import { createTestDatabase, type Opened, type TestDatabase, unique } from "./test-support.ts";

/** A hash as the previous release stored it: `scrypt$N$r$p$salt$hash` (base64url). */
function legacyScrypt(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password.normalize("NFC"), salt, 32, { N: 16_384, r: 8, p: 1 });
  return ["scrypt", 16_384, 8, 1, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe("password hashes", () => {
  it("are Argon2id with OWASP's parameters, in PHC form, salted per hash", async () => {
    const h1 = await hashPassword("pässword");
    const h2 = await hashPassword("pässword");
    const { memory, passes, parallelism } = ARGON2_PARAMS;
    expect([memory, passes, parallelism]).toEqual([19 * 1024, 2, 1]);
    expect(h1).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(h1).not.toBe(h2);
    expect(needsRehash(h1)).toBe(false);
  });

  it.each([
    ["Argon2id", (pw: string) => hashPassword(pw)],
    ["the previous scrypt scheme", async (pw: string) => legacyScrypt(pw)],
  ])("verify when made with %s", async (_, hash) => {
    const stored = await hash("pässword");
    expect(await verifyPassword("pässword", stored)).toBe(true);
    // The same password in another Unicode normal form still matches.
    expect(await verifyPassword("pa\u0308ssword", stored)).toBe(true);
    expect(await verifyPassword("password", stored)).toBe(false);
  });

  it.each([
    ["no hash (an unknown user)", null],
    ["a broken scrypt hash", "scrypt$broken"],
    ["a broken Argon2id hash", "$argon2id$v=19$m=19456,t=2,p=1$AAAA$AAAA"],
    ["an unknown scheme", "$2b$10$abcdefghijklmnopqrstuv"],
    [
      "Argon2id asking for 4 GiB",
      `$argon2id$v=19$m=4194304,t=2,p=1$${"A".repeat(22)}$${"A".repeat(43)}`,
    ],
  ])("never match %s", async (_, stored) => {
    expect(await verifyPassword("pässword", stored)).toBe(false);
  });

  it.each([
    ["scrypt", legacyScrypt("x"), true],
    [
      "Argon2id with less memory",
      `$argon2id$v=19$m=8192,t=2,p=1$${"A".repeat(22)}$${"A".repeat(43)}`,
      true,
    ],
    [
      "Argon2id with fewer passes",
      `$argon2id$v=19$m=19456,t=1,p=1$${"A".repeat(22)}$${"A".repeat(43)}`,
      true,
    ],
    [
      "Argon2id as made now",
      `$argon2id$v=19$m=19456,t=2,p=1$${"A".repeat(22)}$${"A".repeat(43)}`,
      false,
    ],
  ])("a stored %s hash needs rehashing: %s", (_, stored, expected) => {
    expect(needsRehash(stored)).toBe(expected);
  });
});

describe("password hashing is bounded", () => {
  it("runs `concurrent` at once, lets `waiting` wait, refuses the rest at once", async () => {
    const slots = new HashSlots({ concurrent: 2, waiting: 1 });
    const release = gate();
    let started = 0;
    const work = () =>
      slots.run(async () => {
        started++;
        await release.opened;
        return started;
      });
    const running = [work(), work(), work()];
    expect(slots.load).toEqual({ running: 2, waiting: 1 });
    expect(started).toBe(2);
    await expect(work()).rejects.toBeInstanceOf(PasswordHashingBusyError);
    release.open();
    await Promise.all(running);
    expect(started).toBe(3);
    expect(slots.load).toEqual({ running: 0, waiting: 0 });
  });

  it("refuses a hash while the process's slots and queue are full", async () => {
    const release = gate();
    const held = Array.from(
      { length: PASSWORD_HASHING.concurrent + PASSWORD_HASHING.waiting },
      () => passwordHashing.run(() => release.opened),
    );
    await expect(hashPassword("pässword")).rejects.toBeInstanceOf(PasswordHashingBusyError);
    await expect(verifyPassword("pässword", null)).rejects.toBeInstanceOf(PasswordHashingBusyError);
    release.open();
    await Promise.all(held);
    expect(await verifyPassword("pässword", await hashPassword("pässword"))).toBe(true);
  });
});

describe("signing in with an old hash", () => {
  let testDb: TestDatabase;
  let opened: Opened;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    opened = await testDb.open();
  });
  afterAll(async () => {
    await testDb?.cleanup();
  });

  const storedHash = async (id: string) =>
    (
      await opened.db.query<{ password_hash: string }>(
        "SELECT password_hash FROM users WHERE id = $1",
        [id],
      )
    )[0]?.password_hash;

  it("rehashes a scrypt hash to Argon2id at the next successful sign-in, not at a failed one", async () => {
    const name = unique("legacy");
    const user = await opened.store.createUser({
      username: name,
      email: `${name}@example.com`,
      password: "old password",
      role: "member",
    });
    const legacy = legacyScrypt("old password");
    await opened.db.query("UPDATE users SET password_hash = $2 WHERE id = $1", [user.id, legacy]);

    expect(await opened.store.verifyPassword(`${name}@example.com`, "wrong password")).toBeNull();
    expect(await storedHash(user.id)).toBe(legacy);

    expect(await opened.store.verifyPassword(`${name}@example.com`, "old password")).toEqual(user);
    const rehashed = await storedHash(user.id);
    expect(rehashed).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await opened.store.verifyPassword(`${name}@example.com`, "old password")).toEqual(user);
    expect(await storedHash(user.id)).toBe(rehashed);
  });
});
