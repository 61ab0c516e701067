/**
 * The credentials Keel sends for one provider configuration: what must never come back out of
 * Keel when a provider echoes it (see `redactSecrets` in src/chaterror/redact.ts).
 */
import type { ProviderConfig } from "./types.ts";

const AWS_CREDENTIALS = ["access_key_id", "secret_access_key", "session_token"] as const;

/**
 * The API key, every custom header's value (and the token of a "Scheme token" value), and the
 * AWS credentials of a Bedrock configuration.
 */
export function sentCredentials(config: ProviderConfig): string[] {
  const out: string[] = [];
  const add = (value: unknown) => {
    if (typeof value === "string" && value.trim() !== "") out.push(value.trim());
  };
  add(config.api_key);
  const headers = config.options?.headers;
  if (typeof headers === "object" && headers !== null) {
    for (const value of Object.values(headers)) {
      add(value);
      if (typeof value === "string") add(/^\S+\s+(\S+)$/.exec(value.trim())?.[1]);
    }
  }
  for (const key of AWS_CREDENTIALS) add(config.options?.[key]);
  return out;
}
