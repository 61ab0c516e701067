/**
 * Redaction: nothing a provider echoes back (its API key, a custom header's value, AWS
 * credentials, anything that looks like a `Bearer …` token or an `x-api-key: …` header) is stored,
 * logged, evented or returned as it was.
 *
 * The provider layer knows which credentials it sent; it ties them to the error a request raised
 * (`withSentCredentials`), without putting them on the error object itself. `classify` finds them
 * anywhere in the cause chain and scrubs its `message` and `detail` with `redactSecrets`, so every
 * word of a provider's that becomes Keel's passes through one function. The generic patterns
 * apply even when no credentials are known.
 */

export const REDACTED = "[redacted]";

/**
 * Shorter values are not scrubbed as exact strings: no credential is that short, and replacing a
 * value such as "1" or "beta" everywhere would garble the text. The generic patterns still apply.
 */
const MIN_SECRET_LENGTH = 6;

/** Credential-shaped text, whoever sent it. Each keeps its label and replaces only the value. */
const PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  // A header or field that carries a credential: "x-api-key: …", "Authorization: Basic …",
  // "api_key=…", "\"apiKey\":\"…\"".
  [
    /\b((?:proxy-)?authorization|x-(?:goog-)?api-key|api[-_]?key|x-auth-token|access[-_]?token|secret[-_]?access[-_]?key|session[-_]?token)(["']?\s*[:=]\s*["']?)((?:bearer|basic|token)\s+)?(?!\[redacted\])[^\s"',;&}]+/gi,
    `$1$2$3${REDACTED}`,
  ],
  // A bearer token anywhere ("Bearer eyJhbGciOi…").
  [/\b(bearer\s+)(?!\[redacted\])[A-Za-z0-9._~+/=-]{8,}/gi, `$1${REDACTED}`],
  // Provider key formats: OpenAI/Anthropic/OpenRouter "sk-…", Google "AIza…", AWS access key ids.
  [/\bsk-[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/\bAIza[0-9A-Za-z_-]{30,}/g, REDACTED],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
  // A key in a URL's query ("?key=…").
  [/([?&](?:key|api[-_]?key|access_token|token)=)[^&\s"']+/gi, `$1${REDACTED}`],
];

/** The forms a secret takes in an echo: as sent, JSON-escaped (also with `\/`), URL-encoded. */
function spellings(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  return [...new Set([secret, json, json.replaceAll("/", "\\/"), encodeURIComponent(secret)])];
}

/**
 * `text` with every one of `secrets` (exact, JSON-escaped or URL-encoded) and every
 * credential-shaped value replaced by `[redacted]`.
 */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  const exact = secrets
    .filter((secret) => secret.length >= MIN_SECRET_LENGTH)
    .flatMap(spellings)
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const secret of exact) out = out.split(secret).join(REDACTED);
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** The credentials sent with the request that raised each error; the error object is untouched. */
const SENT = new WeakMap<object, readonly string[]>();

/**
 * Ties the credentials Keel sent to the error their request raised, so `classify` scrubs them
 * from whatever the provider echoed. A thrown non-object is wrapped in an `Error` to carry them.
 */
export function withSentCredentials(error: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0) return error;
  const carrier =
    typeof error === "object" && error !== null
      ? error
      : new Error(String(error), { cause: error });
  SENT.set(carrier, [...(SENT.get(carrier) ?? []), ...secrets]);
  return carrier;
}

/** The credentials tied to one error (not its causes), if any. */
export function sentCredentials(error: object): readonly string[] | undefined {
  return SENT.get(error);
}
