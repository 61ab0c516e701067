/** The providers' own error types and codes (body, SSE event, header), and what each means. */
import { V, type Verdict } from "./verdicts.ts";

/**
 * Provider error types and codes, lower-cased. `generic` ones name a broad class (a bad request,
 * an internal error): the provider's message may still say something more specific ("prompt is
 * too long", "credit balance is too low", "model not enabled"), so phrases are consulted too.
 */
export const PROVIDER_CODES = new Map<string, { verdict: Verdict; generic?: true }>([
  // Anthropic
  ["overloaded_error", { verdict: V.overloaded }],
  ["rate_limit_error", { verdict: V.rateLimit }],
  ["authentication_error", { verdict: V.authKey }],
  ["permission_error", { verdict: V.authForbidden, generic: true }],
  ["not_found_error", { verdict: V.configModel, generic: true }],
  ["invalid_request_error", { verdict: V.configVague, generic: true }],
  ["request_too_large", { verdict: V.contextLength }],
  ["billing_error", { verdict: V.usageLimit }],
  ["api_error", { verdict: V.serverError, generic: true }],
  ["timeout_error", { verdict: V.timedOut, generic: true }],
  // OpenAI, Azure OpenAI, OpenRouter and OpenAI-compatible servers
  ["insufficient_quota", { verdict: V.usageLimit }],
  ["billing_hard_limit_reached", { verdict: V.usageLimit }],
  ["billing_not_active", { verdict: V.usageLimit }],
  ["insufficient_balance", { verdict: V.usageLimit }],
  ["rate_limit_exceeded", { verdict: V.rateLimit }],
  ["invalid_api_key", { verdict: V.authKey }],
  ["account_deactivated", { verdict: V.authKey }],
  ["access_terminated", { verdict: V.authKey }],
  ["model_not_found", { verdict: V.configModel }],
  ["deploymentnotfound", { verdict: V.configModel }],
  ["unsupported_parameter", { verdict: V.configInvalid }],
  ["unsupported_value", { verdict: V.configInvalid }],
  ["context_length_exceeded", { verdict: V.contextLength }],
  ["content_filter", { verdict: V.contentFilter }],
  ["content_policy_violation", { verdict: V.contentFilter }],
  ["responsibleaipolicyviolation", { verdict: V.contentFilter }],
  ["server_error", { verdict: V.serverError, generic: true }],
  ["overloaded", { verdict: V.overloaded }],
  // Google (google.rpc.Code names, ErrorInfo reasons)
  ["resource_exhausted", { verdict: V.rateLimit }],
  ["invalid_argument", { verdict: V.configVague, generic: true }],
  ["failed_precondition", { verdict: V.configVague, generic: true }],
  ["out_of_range", { verdict: V.configVague, generic: true }],
  ["unimplemented", { verdict: V.configVague, generic: true }],
  ["unauthenticated", { verdict: V.authKey }],
  ["api_key_invalid", { verdict: V.authKey }],
  ["permission_denied", { verdict: V.authForbidden, generic: true }],
  ["service_disabled", { verdict: V.configInvalid }],
  ["not_found", { verdict: V.configModel, generic: true }],
  ["unavailable", { verdict: V.timeoutStatus, generic: true }],
  ["deadline_exceeded", { verdict: V.timedOut, generic: true }],
  ["aborted", { verdict: V.timeoutStatus, generic: true }],
  ["cancelled", { verdict: V.timeoutStatus, generic: true }],
  ["internal", { verdict: V.serverError, generic: true }],
  ["unknown", { verdict: V.serverError, generic: true }],
  ["data_loss", { verdict: V.serverError, generic: true }],
  // Amazon Bedrock (HTTP `x-amzn-errortype` / body `__type`, and the camelCase stream events)
  ["throttlingexception", { verdict: V.rateLimit }],
  ["servicequotaexceededexception", { verdict: V.rateLimit }],
  ["validationexception", { verdict: V.configVague, generic: true }],
  ["accessdeniedexception", { verdict: V.authForbidden, generic: true }],
  ["resourcenotfoundexception", { verdict: V.configModel, generic: true }],
  ["unrecognizedclientexception", { verdict: V.authKey }],
  ["invalidsignatureexception", { verdict: V.authKey }],
  ["expiredtokenexception", { verdict: V.authKey }],
  ["serviceunavailableexception", { verdict: V.timeoutStatus, generic: true }],
  ["modelnotreadyexception", { verdict: V.timeoutStatus, generic: true }],
  ["modeltimeoutexception", { verdict: V.timedOut, generic: true }],
  ["internalserverexception", { verdict: V.serverError, generic: true }],
  ["modelstreamerrorexception", { verdict: V.serverError, generic: true }],
  ["modelerrorexception", { verdict: V.serverError, generic: true }],
  // Keel's own marker for a prompt or answer blocked for safety (Google blockReason, finishReason)
  ["blocked", { verdict: V.contentFilter }],
]);

/** Google finish/block reasons that mean "refused for policy". */
export const BLOCK_REASONS = new Set([
  "safety",
  "blocklist",
  "prohibited_content",
  "spii",
  "image_safety",
  "content-filter",
  "content_filter",
]);
