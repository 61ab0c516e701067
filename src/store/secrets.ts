/**
 * The server key and what it protects: provider API keys are stored as AES-256-GCM ciphertext
 * (random 96-bit IV per value, the provider's id as associated data so a ciphertext cannot be
 * moved to another row). The key comes from `secretKey` (`KEEL_SECRET_KEY`) or from
 * `<dataDir>/secret.key`, created with mode 0600 on first start. Nothing here logs a key.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { link, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

const KEY_BYTES = 32;
const IV_BYTES = 12;
const FORMAT = "v1";

/** The `settings` row holding `keyFingerprint` of the key the stored secrets are encrypted under. */
export const FINGERPRINT_SETTING = "secret_key_fingerprint";

/** The server key is missing, malformed, or not the one the data was encrypted with. */
export class SecretKeyError extends Error {
  override readonly name = "SecretKeyError";
}

/** Parses a 32-byte key given as hex (64 digits) or base64/base64url. */
export function parseSecretKey(text: string): Buffer {
  const value = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(value)) {
    key = Buffer.from(value, "hex");
  } else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    key = Buffer.from(value.replaceAll("-", "+").replaceAll("_", "/"), "base64");
  }
  if (!key || key.length !== KEY_BYTES) {
    throw new SecretKeyError(
      `the secret key must be ${KEY_BYTES} bytes, written as 64 hex digits or base64 ` +
        "(for example: openssl rand -base64 32)",
    );
  }
  return key;
}

/**
 * The key from `secretKey` when given, else `<dataDir>/secret.key` (created on first start, mode
 * 0600; two processes starting together agree because the file appears atomically).
 */
export async function loadSecretKey(dataDir: string, secretKey?: string): Promise<Buffer> {
  if (secretKey !== undefined && secretKey !== "") return parseSecretKey(secretKey);
  const file = join(dataDir, "secret.key");
  try {
    const key = parseSecretKey(await readFile(file, "utf8"));
    await refuseIfShared(file);
    return key;
  } catch (error) {
    if (!isNotFound(error)) {
      if (error instanceof SecretKeyError) {
        throw new SecretKeyError(`${file}: ${error.message}`);
      }
      throw error;
    }
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(temp, `${randomBytes(KEY_BYTES).toString("base64")}\n`, {
    mode: 0o600,
    flag: "wx",
  });
  try {
    // link() fails if the file exists: whoever links first wins, the other reads the winner's key.
    await link(temp, file);
  } catch (error) {
    if (!(typeof error === "object" && error !== null && "code" in error)) throw error;
    if ((error as { code: unknown }).code !== "EEXIST") throw error;
  } finally {
    await rm(temp, { force: true });
  }
  return parseSecretKey(await readFile(file, "utf8"));
}

/** Like ssh with a private key: a key file others may read or write is not used. */
async function refuseIfShared(file: string): Promise<void> {
  const mode = (await stat(file)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new SecretKeyError(
      `${file} is readable or writable by other users (mode ${mode.toString(8)}). Run ` +
        `\`chmod 600 ${file}\`; if others may have read it, rotate it (docs/operations.md).`,
    );
  }
}

/** A one-way fingerprint of the key, kept in the database to catch a replica with another key. */
export function keyFingerprint(key: Buffer): string {
  return createHmac("sha256", key).update("keel secret key check v1").digest("hex");
}

export function encryptSecret(key: Buffer, plaintext: string, context: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(context, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [FORMAT, iv, tag, ciphertext].map((part) => encode(part)).join(".");
}

export function decryptSecret(key: Buffer, stored: string, context: string): string {
  const [format, iv, tag, ciphertext] = stored.split(".");
  if (format !== FORMAT || iv === undefined || tag === undefined || ciphertext === undefined) {
    throw new SecretKeyError("a stored secret is in an unknown format");
  }
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([
      decipher.update(Buffer.from(ciphertext, "base64url")),
      decipher.final(),
    ]).toString("utf8");
  } catch {
    throw new SecretKeyError(
      "cannot decrypt a stored provider API key: the server's secret key (KEEL_SECRET_KEY or " +
        "<data dir>/secret.key) is not the one it was encrypted with",
    );
  }
}

function encode(part: string | Buffer): string {
  return typeof part === "string" ? part : part.toString("base64url");
}

function isNotFound(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    (error as { code: unknown }).code === "ENOENT"
  );
}
