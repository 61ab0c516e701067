import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hashPassword, hashToken, newToken, verifyPassword } from "./credentials.ts";
import {
  decryptSecret,
  encryptSecret,
  keyFingerprint,
  loadSecretKey,
  parseSecretKey,
  SecretKeyError,
} from "./secrets.ts";

const KEY = Buffer.alloc(32, 7);

describe("server key", () => {
  it("accepts 32 bytes as hex, base64 or base64url, and nothing else", () => {
    expect(parseSecretKey(KEY.toString("hex"))).toEqual(KEY);
    expect(parseSecretKey(` ${KEY.toString("base64")}\n`)).toEqual(KEY);
    const odd = Buffer.from(Array.from({ length: 32 }, (_, i) => 250 - i));
    expect(parseSecretKey(odd.toString("base64url"))).toEqual(odd);
    for (const bad of ["", "abc", "ab".repeat(31), Buffer.alloc(16).toString("base64"), "?!"]) {
      expect(() => parseSecretKey(bad)).toThrow(SecretKeyError);
    }
  });

  it("creates <dataDir>/secret.key once, mode 0600, even when opened concurrently", async () => {
    const dir = await mkdtemp(join(tmpdir(), "keel-key-"));
    try {
      const keys = await Promise.all(Array.from({ length: 8 }, () => loadSecretKey(dir)));
      for (const key of keys) expect(key).toEqual(keys[0]);
      expect((await stat(join(dir, "secret.key"))).mode & 0o777).toBe(0o600);
      expect(parseSecretKey(await readFile(join(dir, "secret.key"), "utf8"))).toEqual(keys[0]);
      expect(await loadSecretKey(dir)).toEqual(keys[0]);
      // An explicit key wins over the file.
      expect(await loadSecretKey(dir, KEY.toString("hex"))).toEqual(KEY);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("encrypts with a fresh IV and decrypts only with the same key and row", () => {
    const a = encryptSecret(KEY, "sk-secret", "provider-1");
    const b = encryptSecret(KEY, "sk-secret", "provider-1");
    expect(a).not.toBe(b);
    expect(a).not.toContain("sk-secret");
    expect(decryptSecret(KEY, a, "provider-1")).toBe("sk-secret");
    const wrongKey = Buffer.alloc(32, 8);
    expect(() => decryptSecret(wrongKey, a, "provider-1")).toThrow(SecretKeyError);
    expect(() => decryptSecret(wrongKey, a, "provider-1")).toThrow(/secret key/);
    expect(() => decryptSecret(KEY, a, "provider-2")).toThrow(SecretKeyError);
    const [v, iv, tag, data] = a.split(".");
    const flipped = `${v}.${iv}.${tag}.${(data ?? "").slice(0, -2)}AA`;
    expect(() => decryptSecret(KEY, flipped, "provider-1")).toThrow(SecretKeyError);
    expect(() => decryptSecret(KEY, "garbage", "provider-1")).toThrow(SecretKeyError);
  });

  it("fingerprints a key without revealing it", () => {
    const fp = keyFingerprint(KEY);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(fp).not.toContain(KEY.toString("hex"));
    expect(keyFingerprint(Buffer.alloc(32, 8))).not.toBe(fp);
  });
});

describe("credentials", () => {
  it("hashes passwords with a per-hash salt and verifies them", async () => {
    const h1 = await hashPassword("pässword");
    const h2 = await hashPassword("pässword");
    expect(h1).not.toBe(h2);
    expect(await verifyPassword("pässword", h1)).toBe(true);
    expect(await verifyPassword("pässword", h2)).toBe(true);
    // The same password in another Unicode normal form still matches.
    expect(await verifyPassword("pa\u0308ssword", h1)).toBe(true);
    expect(await verifyPassword("password", h1)).toBe(false);
    expect(await verifyPassword("pässword", null)).toBe(false);
    expect(await verifyPassword("pässword", "scrypt$broken")).toBe(false);
  });

  it("mints prefixed random tokens and hashes them with sha256", () => {
    const token = newToken();
    expect(token).toMatch(/^keel_[A-Za-z0-9_-]{43}$/);
    expect(newToken()).not.toBe(token);
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(token)).toBe(hashToken(token));
  });
});
