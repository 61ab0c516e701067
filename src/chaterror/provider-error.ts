/**
 * The provider's structured error, from any shape a response body or an in-band SSE event takes
 * (OpenAI, Anthropic, Google, Bedrock, OpenRouter's passed-through upstream error), read into
 * verdicts: its type/code first, its prose only when the code is missing or generic.
 */
import { CONTEXT_PHRASE, PHRASES, phraseVerdicts } from "./phrases.ts";
import { BLOCK_REASONS, PROVIDER_CODES } from "./provider-codes.ts";
import { isRecord, num, parseJson, type Rec, str } from "./read.ts";
import { statusVerdict, V, type Verdict } from "./verdicts.ts";

interface ProviderFacts {
  tokens: string[];
  numericCode?: number;
  message?: string;
  retryDelayMs?: number;
  dailyQuota: boolean;
  nested: unknown[];
}

function googleDelay(value: unknown): number | undefined {
  const text = str(value);
  const match = text === undefined ? null : /^(\d+(?:\.\d+)?)s$/.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1000;
}

/** The provider's error from any of the shapes a body or an in-band SSE event takes. */
function providerFacts(value: Rec): ProviderFacts | undefined {
  const facts: ProviderFacts = { tokens: [], dailyQuota: false, nested: [] };
  const outerType = str(value.type);
  let inner: Rec = value;
  if (isRecord(value.error)) {
    inner = value.error;
  } else if (
    outerType === "response.failed" &&
    isRecord(value.response) &&
    isRecord(value.response.error)
  ) {
    inner = value.response.error;
  } else {
    for (const [key, entry] of Object.entries(value)) {
      if (/Exception$/.test(key) && isRecord(entry)) {
        facts.tokens.push(key);
        inner = entry;
        break;
      }
    }
  }

  for (const token of [inner.type, inner.__type, inner.status, inner.code]) {
    const text = str(token);
    if (text !== undefined && num(text) === undefined && text !== "error") facts.tokens.push(text);
  }
  if (inner !== value) {
    const text = str(value.code);
    if (text !== undefined && num(text) === undefined) facts.tokens.push(text);
    if (outerType !== undefined && outerType !== "error" && outerType !== "response.failed") {
      facts.tokens.push(outerType);
    }
  }
  if (isRecord(inner.innererror)) {
    const text = str(inner.innererror.code);
    if (text !== undefined) facts.tokens.push(text);
  }

  for (const holder of [value, inner]) {
    const feedback = isRecord(holder.promptFeedback)
      ? holder.promptFeedback.blockReason
      : isRecord(holder.prompt_feedback)
        ? holder.prompt_feedback.block_reason
        : undefined;
    if (str(feedback) !== undefined || str(holder.blockReason) !== undefined) {
      facts.tokens.push("blocked");
    }
    const finish = str(holder.finishReason)?.toLowerCase();
    if (finish !== undefined && BLOCK_REASONS.has(finish)) facts.tokens.push("blocked");
  }

  if (Array.isArray(inner.details)) {
    for (const detail of inner.details) {
      if (!isRecord(detail)) continue;
      const type = str(detail["@type"]) ?? "";
      if (type.endsWith("RetryInfo")) facts.retryDelayMs = googleDelay(detail.retryDelay);
      if (type.endsWith("ErrorInfo")) {
        const reason = str(detail.reason);
        if (reason !== undefined) facts.tokens.push(reason);
      }
      if (type.endsWith("QuotaFailure") && Array.isArray(detail.violations)) {
        for (const violation of detail.violations) {
          if (isRecord(violation) && /PerDay/i.test(str(violation.quotaId) ?? "")) {
            facts.dailyQuota = true;
          }
        }
      }
    }
  }

  facts.numericCode =
    num(inner.code) ?? num(inner.status) ?? num(inner.statusCode) ?? num(value.statusCode);
  facts.message = str(inner.message) ?? str(value.message) ?? str(value.error);

  // OpenRouter passes the upstream provider's own error along as `metadata.raw`.
  const metadata = inner.metadata;
  if (isRecord(metadata)) {
    const raw = isRecord(metadata.raw) ? metadata.raw : parseJson(metadata.raw);
    if (isRecord(raw)) facts.nested.push(raw);
  }

  if (facts.tokens.length === 0 && facts.numericCode === undefined && facts.message === undefined) {
    return undefined;
  }
  return facts;
}

/** The part of the chain's facts a provider's error adds to (see `Facts` in facts.ts). */
interface ProviderErrorSink {
  verdicts: Verdict[];
  texts: string[];
  providerMessages: string[];
  retryDelayMs?: number;
}

/** Adds what a provider's structured error says; `extraTokens` come from headers. */
export function addProviderError(
  facts: ProviderErrorSink,
  value: Rec,
  extraTokens: string[] = [],
  depth = 0,
): void {
  const provider = providerFacts(value);
  if (provider === undefined && extraTokens.length === 0) return;
  const tokens = [...extraTokens, ...(provider?.tokens ?? [])];
  let recognised = false;
  let specific = false;
  for (const token of tokens) {
    const entry = PROVIDER_CODES.get(token.toLowerCase());
    if (entry === undefined) continue;
    facts.verdicts.push(entry.verdict);
    recognised = true;
    if (!entry.generic) specific = true;
  }
  if (provider?.dailyQuota) {
    facts.verdicts.push(V.usageLimit);
    specific = true;
  }
  const message = provider?.message;
  if (message !== undefined) {
    facts.providerMessages.push(message);
    facts.texts.push(message);
    // A specific type/code is the provider's verdict; its prose may mention other things
    // ("add a payment method to raise your rate limit"). Context-length wording is unambiguous.
    if (specific) {
      if (CONTEXT_PHRASE.test(message)) facts.verdicts.push(V.contextLength);
    } else {
      facts.verdicts.push(...phraseVerdicts(message, PHRASES));
    }
  }
  // An in-band numeric code (OpenRouter's `code: 402`, a status inferred by the SDK) counts only
  // when no type or code said more.
  if (!recognised && provider?.numericCode !== undefined) {
    const verdict = statusVerdict(provider.numericCode);
    if (verdict) facts.verdicts.push(verdict);
  }
  if (provider?.retryDelayMs !== undefined) facts.retryDelayMs ??= provider.retryDelayMs;
  if (depth < 2) {
    for (const nested of provider?.nested ?? []) {
      if (isRecord(nested)) addProviderError(facts, nested, [], depth + 1);
    }
  }
}
