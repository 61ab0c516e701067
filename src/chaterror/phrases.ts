/** Wording: what a provider's prose, or a flattened error's message, says when no code does. */
import { statusVerdict, V, type Verdict } from "./verdicts.ts";

// Phrases in a provider's own structured message (used when its type/code is missing or generic).
export const CONTEXT_PHRASE =
  /prompt is too long|context (?:length|window|limit)|maximum context|input token count|input is too long|too many (?:input )?tokens|exceeds? the maximum number of tokens|reduce the length of the messages|request too large for|must be reduced in order to run/i;

export const PHRASES: ReadonlyArray<readonly [RegExp, Verdict]> = [
  // Anthropic's type name counts as the word when a layer flattened it into text.
  [/\boverloaded(?:_error)?\b/i, V.overloaded],
  [
    /insufficient[_ ]quota|exceeded your current quota|payment required|credit balance|(?:more|enough|insufficient|out of) credits|insufficient (?:balance|funds)/i,
    V.usageLimit,
  ],
  // A mere mention of billing ("see the billing page for your limits") is a weak quota signal: it
  // explains a 400 or a 403, but a 429 stays a retryable rate limit.
  [/\bbilling\b/i, V.billingMention],
  [
    /invalid[_ ]?(?:x-)?api[_ -]?key|incorrect api key|api key (?:is )?(?:not valid|invalid|expired)|invalid authentication|authentication (?:failed|error|required)|\bunauthori[sz]ed\b|(?:missing|no) api key/i,
    V.authKey,
  ],
  [CONTEXT_PHRASE, V.contextLength],
  [
    /content[_ -]?(?:filter|policy)|content management policy|responsibleaipolicyviolation|safety (?:filter|system|settings)|(?:blocked|flagged) (?:by|due to|for) (?:safety|moderation)|prohibited content|guardrail/i,
    V.contentFilter,
  ],
  [/rate[_ -]?limit|too many requests|throttl/i, V.rateLimit],
  [
    /\bmodel\b[^.]{0,80}?(?:not found|does not exist|doesn't exist|not supported|is not available|not available|not enabled|deprecated|decommissioned|no longer available)|no such model|(?:invalid|unknown|unsupported) model|(?:unsupported|unknown|unrecognized) (?:parameter|value|argument)|not enabled for (?:your|this) account|not (?:available|supported) in your (?:region|country|location)|location is not supported|(?:don't|do not) have access to the model|deployment[^.]{0,40}does not exist|has not been used in project|\bis disabled\b/i,
    V.configModel,
  ],
];

// Text of last resort, for layers that flattened the error into a message.
const TEXT_ONLY: ReadonlyArray<readonly [RegExp, Verdict]> = [
  [
    /\btimed? ?out\b|timeout|econnreset|econnrefused|\bepipe\b|socket hang up|other side closed|\bterminated\b|upstream connect error|reset before headers|connection (?:reset|refused|closed|error)|network (?:error|connection lost)|fetch failed|premature close|goaway|rst_stream|flow[_ ]control|bad gateway|service unavailable|gateway time-?out|temporarily unavailable/i,
    V.timeoutTransport,
  ],
  [/internal (?:server )?error|server error/i, V.serverError],
];

const STATUS_IN_TEXT = /\b(?:status(?: code)?|http(?:\/\d(?:\.\d)?)?)[\s:=]*([45]\d\d)\b/i;

/** The verdict of every pattern in `table` that `text` matches, in table order. */
export function phraseVerdicts(
  text: string,
  table: ReadonlyArray<readonly [RegExp, Verdict]>,
): Verdict[] {
  return table.filter(([pattern]) => pattern.test(text)).map(([, verdict]) => verdict);
}

/**
 * The config verdicts the chain's text states ("unsupported model", "model not found"): they beat
 * an ambiguous transient wrapper (a 503, a reset) even when that wrapper is typed.
 */
export function configTextVerdicts(texts: readonly string[]): Verdict[] {
  return texts.flatMap((text) =>
    phraseVerdicts(text, PHRASES).filter((verdict) => verdict.kind === "config"),
  );
}

/**
 * Text matching of last resort over every message in the chain, for layers that flattened the
 * error: the provider phrases, transport words, and a status written into the text.
 */
export function textVerdicts(texts: readonly string[]): Verdict[] {
  const verdicts: Verdict[] = [];
  for (const text of texts) {
    verdicts.push(...phraseVerdicts(text, PHRASES), ...phraseVerdicts(text, TEXT_ONLY));
    const status = STATUS_IN_TEXT.exec(text)?.[1];
    const verdict = status === undefined ? undefined : statusVerdict(Number(status));
    if (verdict) verdicts.push(verdict);
  }
  return verdicts;
}
