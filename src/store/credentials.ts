/**
 * Passwords and tokens at rest. Passwords: scrypt (node:crypto) with a random 16-byte salt per
 * user, its parameters stored beside the hash so they can be raised later without breaking old
 * hashes, compared with `timingSafeEqual`. Tokens: 32 random bytes, base64url, prefixed `keel_` so
 * a leaked one is recognisable (secret scanners, logs); only their sha256 is stored.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";

const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** N = 2^14, r = 8, p = 1: ~16 MiB and a few tens of milliseconds per hash. */
const PARAMS = { N: 16_384, r: 8, p: 1 } as const;

export const TOKEN_PREFIX = "keel_";

function scryptAsync(
  password: string,
  salt: Buffer,
  length: number,
  params: { N: number; r: number; p: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize("NFC"),
      salt,
      length,
      { ...params, maxmem: 256 * params.N * params.r },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/** `scrypt$N$r$p$salt$hash` (salt and hash base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await scryptAsync(password, salt, HASH_BYTES, PARAMS);
  return [
    "scrypt",
    PARAMS.N,
    PARAMS.r,
    PARAMS.p,
    salt.toString("base64url"),
    hash.toString("base64url"),
  ].join("$");
}

/** A stored hash to verify against when the user does not exist, so both paths cost the same. */
const DUMMY_HASH = `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${Buffer.alloc(SALT_BYTES).toString("base64url")}$${Buffer.alloc(HASH_BYTES).toString("base64url")}`;

/** Whether `password` matches `stored` (a `hashPassword` result); `null` spends the same time and fails. */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const parts = (stored ?? DUMMY_HASH).split("$");
  const [scheme, n, r, p, salt, hash] = parts;
  if (
    parts.length !== 6 ||
    scheme !== "scrypt" ||
    salt === undefined ||
    hash === undefined ||
    n === undefined ||
    r === undefined ||
    p === undefined
  ) {
    return false;
  }
  const expected = Buffer.from(hash, "base64url");
  const actual = await scryptAsync(password, Buffer.from(salt, "base64url"), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return stored !== null && actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A fresh bearer token: `prefix` says what it is for (a user's, or a workspace agent's). */
export function newToken(prefix: string = TOKEN_PREFIX): string {
  return prefix + randomBytes(32).toString("base64url");
}

/** What is stored for a token: its sha256, hex. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}
