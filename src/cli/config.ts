/** Where the CLI keeps what `keel login` saved, and reading it back (the environment first). */
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/** What `keel login` remembers: the server and the token to reach it with. */
export interface Credentials {
  url: string;
  token: string;
}

/** `$KEEL_CONFIG_DIR`, else `$XDG_CONFIG_HOME/keel`, else `~/.config/keel`. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KEEL_CONFIG_DIR) return env.KEEL_CONFIG_DIR;
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "keel");
}

function credentialsPath(env?: NodeJS.ProcessEnv): string {
  return join(configDir(env), "credentials.json");
}

export async function saveCredentials(
  credentials: Credentials,
  env?: NodeJS.ProcessEnv,
): Promise<string> {
  const path = credentialsPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600); // also when the file already existed with looser bits
  return path;
}

/**
 * The credentials to use: `KEEL_URL` + `KEEL_TOKEN` from the environment win, then the file
 * `keel login` wrote. Null when there are none.
 */
export async function loadCredentials(
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials | null> {
  if (env.KEEL_URL && env.KEEL_TOKEN) return { url: env.KEEL_URL, token: env.KEEL_TOKEN };
  try {
    const parsed: unknown = JSON.parse(await readFile(credentialsPath(env), "utf8"));
    if (
      typeof parsed === "object" &&
      parsed !== null &&
      "url" in parsed &&
      "token" in parsed &&
      typeof parsed.url === "string" &&
      typeof parsed.token === "string"
    ) {
      return { url: parsed.url, token: parsed.token };
    }
    return null;
  } catch {
    return null;
  }
}
