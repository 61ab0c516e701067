/**
 * Asking a configured provider what it is, without a chat: the models it lists, and "Test
 * connection" — the smallest real request, sent over the same transport with the same
 * credentials a chat would use.
 *
 * A failure leaves this module as the error itself, tied to the credentials it sent
 * (`withSentCredentials`), so the caller classifies it exactly as a chat's failure is classified
 * — same kinds, same words — and nothing the provider echoed of a key survives `classify`.
 */
import { APICallError } from "@ai-sdk/provider";
import { withSentCredentials } from "../chaterror/redact.ts";
import { sentCredentials } from "./credentials.ts";
import { createChatModel } from "./index.ts";
import type { Transport } from "./transport.ts";
import type { ProviderConfig, ProviderType } from "./types.ts";

export interface ListedModel {
  id: string;
  display_name?: string;
}

/** How a type lists its models: the request and how to read the answer. */
interface Lister {
  defaultBase: string;
  /** Whether the listing checks the key: OpenRouter's is public, so it proves nothing. */
  authenticated: boolean;
  path: string;
  headers(key: string | undefined): Record<string, string>;
  read(body: unknown): ListedModel[];
}

const bearer = (key: string | undefined): Record<string, string> =>
  key ? { authorization: `Bearer ${key}` } : {};

function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value)
    ? value.filter((v): v is Record<string, unknown> => typeof v === "object" && v !== null)
    : [];
}

function field(body: unknown, name: string): unknown {
  return typeof body === "object" && body !== null ? (body as Record<string, unknown>)[name] : null;
}

/** `{ data: [{ id, name? | display_name? }] }`: OpenAI, its compatibles, OpenRouter, Anthropic. */
function readData(body: unknown): ListedModel[] {
  return records(field(body, "data")).flatMap((m) => {
    if (typeof m.id !== "string") return [];
    const name = m.display_name ?? m.name;
    return [
      typeof name === "string" && name !== m.id ? { id: m.id, display_name: name } : { id: m.id },
    ];
  });
}

const LISTERS: Partial<Record<ProviderType, Lister>> = {
  openai: {
    defaultBase: "https://api.openai.com/v1",
    authenticated: true,
    path: "/models",
    headers: bearer,
    read: readData,
  },
  "openai-compatible": {
    defaultBase: "",
    authenticated: true,
    path: "/models",
    headers: bearer,
    read: readData,
  },
  openrouter: {
    defaultBase: "https://openrouter.ai/api/v1",
    authenticated: false,
    path: "/models",
    headers: bearer,
    read: readData,
  },
  anthropic: {
    defaultBase: "https://api.anthropic.com/v1",
    authenticated: true,
    path: "/models?limit=1000",
    headers: (key) => ({ ...(key ? { "x-api-key": key } : {}), "anthropic-version": "2023-06-01" }),
    read: readData,
  },
  google: {
    defaultBase: "https://generativelanguage.googleapis.com/v1beta",
    authenticated: true,
    path: "/models?pageSize=1000",
    headers: (key): Record<string, string> => (key ? { "x-goog-api-key": key } : {}),
    // Only the models that chat: embedding and imagen models list too.
    read: (body) =>
      records(field(body, "models")).flatMap((m) => {
        const methods = m.supportedGenerationMethods;
        if (typeof m.name !== "string") return [];
        if (Array.isArray(methods) && !methods.includes("generateContent")) return [];
        const id = m.name.replace(/^models\//, "");
        return [typeof m.displayName === "string" ? { id, display_name: m.displayName } : { id }];
      }),
  },
};

/** Whether the type can list its models (Azure lists base models, not deployments; Bedrock needs SigV4). */
export function canListModels(type: ProviderType): boolean {
  return LISTERS[type] !== undefined;
}

/**
 * The provider's models, by its own list endpoint; `null` when its type has none. Throws the
 * provider's failure (an `APICallError` for an error status) tied to the credentials sent.
 */
export async function listModels(
  config: ProviderConfig,
  transport: Transport,
  signal: AbortSignal,
): Promise<ListedModel[] | null> {
  const lister = LISTERS[config.type];
  if (lister === undefined) return null;
  const base = (config.base_url || lister.defaultBase).replace(/\/+$/, "");
  const url = `${base}${lister.path}`;
  const custom = config.options?.headers;
  const headers: Record<string, string> = {
    accept: "application/json",
    ...lister.headers(config.api_key),
    ...(typeof custom === "object" && custom !== null ? (custom as Record<string, string>) : {}),
  };
  try {
    const response = await transport.fetch(url, { headers, signal });
    const text = await response.text();
    if (!response.ok) {
      throw new APICallError({
        message: response.statusText || `HTTP ${response.status}`,
        url,
        requestBodyValues: {},
        statusCode: response.status,
        responseHeaders: Object.fromEntries(response.headers),
        responseBody: text,
        isRetryable: response.status === 429 || response.status >= 500,
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error("The provider's model list is not JSON: is the base URL right?");
    }
    return lister.read(body).sort((a, b) => a.id.localeCompare(b.id));
  } catch (error) {
    throw withSentCredentials(error, sentCredentials(config));
  }
}

export type Probe =
  | { ok: true; via: "completion" | "models"; latencyMs: number }
  | { ok: false; error: unknown; latencyMs: number };

/**
 * The smallest real request: a completion of at most 16 tokens (OpenAI's Responses API refuses
 * fewer) from `model` — what a chat does, so a wrong model id shows too — or, with no model to
 * try, the type's model list where it checks the key. Neither: `null` (nothing to send).
 * Bounded by `signal`; the error of an aborted attempt is the signal's reason.
 */
export async function probeProvider(
  config: ProviderConfig,
  model: string | undefined,
  transport: Transport,
  signal: AbortSignal,
): Promise<Probe | null> {
  const lister = LISTERS[config.type];
  if (model === undefined && !lister?.authenticated) return null;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    if (model === undefined) {
      await listModels(config, transport, signal);
      return { ok: true, via: "models", latencyMs: elapsed() };
    }
    const chat = createChatModel(config, model, transport);
    const request = {
      messages: [{ role: "user" as const, content: [{ type: "text" as const, text: "Say OK." }] }],
      maxOutputTokens: 16,
    };
    for await (const part of chat.stream(request, signal)) {
      if (part.type === "finish") break;
    }
    return { ok: true, via: "completion", latencyMs: elapsed() };
  } catch (error) {
    return { ok: false, error: signal.aborted ? signal.reason : error, latencyMs: elapsed() };
  }
}
