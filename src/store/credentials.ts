/**
 * Passwords and tokens at rest.
 *
 * Passwords: Argon2id (node:crypto) with OWASP's parameters (19 MiB, 2 passes, 1 lane) and a
 * random 16-byte salt per hash, stored as a PHC string
 * (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) so the parameters can be raised later without
 * breaking old hashes; compared with `timingSafeEqual`. Hashes of the previous scheme
 * (`scrypt$N$r$p$salt$hash`) still verify, and `needsRehash` says when a stored hash should be
 * replaced (the store does it at the next successful sign-in).
 *
 * Hashing is bounded: at most `PASSWORD_HASHING.concurrent` hashes run at once in this process
 * (each holds a libuv thread and ~19 MiB), `PASSWORD_HASHING.waiting` more may wait for a turn,
 * and anything beyond is refused at once with `PasswordHashingBusyError` — so a flood of sign-ins
 * cannot starve the thread pool the rest of the server shares, nor queue without bound.
 *
 * Tokens: 32 random bytes, base64url, prefixed `keel_` so a leaked one is recognisable (secret
 * scanners, logs); only their sha256 is stored.
 */
import { argon2, createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { PasswordHashingBusyError } from "./contract.ts";

const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** OWASP's Password Storage Cheat Sheet: Argon2id, m = 19 MiB, t = 2, p = 1. */
export const ARGON2_PARAMS = { memory: 19 * 1024, passes: 2, parallelism: 1 } as const;
const ARGON2_VERSION = 19;

/** How many password hashes run at once in this process, and how many may wait for a turn. */
export const PASSWORD_HASHING = { concurrent: 2, waiting: 8 } as const;

export const TOKEN_PREFIX = "keel_";

/**
 * A counting semaphore that refuses instead of queueing without bound: `run` starts `fn` when one
 * of `concurrent` slots is free, waits (first come, first served) while at most `waiting` others
 * do, and otherwise throws `PasswordHashingBusyError` without running it.
 */
export class HashSlots {
  readonly #concurrent: number;
  readonly #waiting: number;
  readonly #queue: Array<() => void> = [];
  #running = 0;

  constructor(limits: { concurrent: number; waiting: number }) {
    this.#concurrent = Math.max(1, limits.concurrent);
    this.#waiting = Math.max(0, limits.waiting);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#concurrent) {
      if (this.#queue.length >= this.#waiting) throw new PasswordHashingBusyError();
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter, or free it.
      const next = this.#queue.shift();
      if (next) next();
      else this.#running--;
    }
  }

  /** Whether `run` would refuse now (every slot taken, the queue full). */
  get saturated(): boolean {
    return this.#running >= this.#concurrent && this.#queue.length >= this.#waiting;
  }

  /** Hashes running and waiting now. */
  get load(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#queue.length };
  }
}

/** The process's one bound on password hashing (every hash and verification goes through it). */
export const passwordHashing = new HashSlots(PASSWORD_HASHING);

function argon2id(password: string, salt: Buffer, length: number, params: Argon2Params) {
  return new Promise<Buffer>((resolve, reject) => {
    argon2(
      "argon2id",
      {
        message: password.normalize("NFC"),
        nonce: salt,
        tagLength: length,
        memory: params.memory,
        passes: params.passes,
        parallelism: params.parallelism,
      },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

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

interface Argon2Params {
  memory: number;
  passes: number;
  parallelism: number;
}

/** PHC strings use standard base64 without padding. */
const b64 = (bytes: Buffer): string => bytes.toString("base64").replace(/=+$/, "");

function phc(params: Argon2Params, salt: Buffer, hash: Buffer): string {
  const { memory: m, passes: t, parallelism: p } = params;
  return `$argon2id$v=${ARGON2_VERSION}$m=${m},t=${t},p=${p}$${b64(salt)}$${b64(hash)}`;
}

/** `$argon2id$v=19$m=…,t=…,p=…$salt$hash`. Throws `PasswordHashingBusyError` when busy. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await passwordHashing.run(() => argon2id(password, salt, HASH_BYTES, ARGON2_PARAMS));
  return phc(ARGON2_PARAMS, salt, hash);
}

/** A stored hash to verify against when the user does not exist, so both paths cost the same. */
const DUMMY_HASH = phc(ARGON2_PARAMS, Buffer.alloc(SALT_BYTES), Buffer.alloc(HASH_BYTES));

/** Bounds on stored parameters, so a damaged row cannot ask for gigabytes. */
const MAX_ARGON2_MEMORY = 1024 * 1024;
const MAX_SCRYPT_N = 1 << 20;

type Parsed =
  | { scheme: "argon2id"; params: Argon2Params; salt: Buffer; hash: Buffer }
  | { scheme: "scrypt"; params: { N: number; r: number; p: number }; salt: Buffer; hash: Buffer };

function parse(stored: string): Parsed | null {
  const argon =
    /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(stored);
  if (argon) {
    const [, m, t, p, salt, hash] = argon as unknown as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const params = { memory: Number(m), passes: Number(t), parallelism: Number(p) };
    if (params.memory > MAX_ARGON2_MEMORY || params.passes > 64 || params.parallelism > 16)
      return null;
    return {
      scheme: "argon2id",
      params,
      salt: Buffer.from(salt, "base64"),
      hash: Buffer.from(hash, "base64"),
    };
  }
  const parts = stored.split("$");
  const [scheme, n, r, p, salt, hash] = parts;
  if (parts.length !== 6 || scheme !== "scrypt" || !salt || !hash || !n || !r || !p) return null;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (!(params.N <= MAX_SCRYPT_N && params.r <= 64 && params.p <= 16)) return null;
  return {
    scheme: "scrypt",
    params,
    salt: Buffer.from(salt, "base64url"),
    hash: Buffer.from(hash, "base64url"),
  };
}

/**
 * Whether `password` matches `stored` (a `hashPassword` result, or a hash of the previous scrypt
 * scheme); `null` spends the same time and fails. Throws `PasswordHashingBusyError` when busy.
 */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const parsed = parse(stored ?? DUMMY_HASH);
  if (parsed === null || parsed.hash.length < 16 || parsed.salt.length < 8) return false;
  const expected = parsed.hash;
  const actual = await passwordHashing.run(() =>
    parsed.scheme === "argon2id"
      ? argon2id(password, parsed.salt, expected.length, parsed.params)
      : scryptAsync(password, parsed.salt, expected.length, parsed.params),
  );
  return stored !== null && actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Whether a stored hash is of an older scheme or weaker parameters than `hashPassword` makes. */
export function needsRehash(stored: string): boolean {
  const parsed = parse(stored);
  if (parsed === null || parsed.scheme !== "argon2id") return true;
  const { memory, passes, parallelism } = parsed.params;
  return (
    memory < ARGON2_PARAMS.memory ||
    passes < ARGON2_PARAMS.passes ||
    parallelism !== ARGON2_PARAMS.parallelism
  );
}

/** A fresh bearer token: `prefix` says what it is for (a user's, or a workspace agent's). */
export function newToken(prefix: string = TOKEN_PREFIX): string {
  return prefix + randomBytes(32).toString("base64url");
}

/** What is stored for a token: its sha256, hex. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}
