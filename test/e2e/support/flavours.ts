/** The provider configurations and transports the end-to-end suites run against the fake. */
import type { ProviderConfig } from "../../../src/provider/index.ts";

export type FlavourId =
  | "openai-chat"
  | "openai-responses"
  | "anthropic"
  | "google"
  | "openrouter"
  | "azure"
  | "openai-compatible";

export interface Flavour {
  name: string;
  id: FlavourId;
  config: (fakeUrl: string) => ProviderConfig;
}

/** Every provider type Keel builds, each pointed at the fake provider's matching wire format. */
export const FLAVOURS: Flavour[] = [
  {
    name: "openai chat completions",
    id: "openai-chat",
    config: (url) => ({
      type: "openai",
      base_url: `${url}/v1`,
      api_key: "k",
      options: { api: "chat" },
    }),
  },
  {
    name: "openai responses",
    id: "openai-responses",
    config: (url) => ({ type: "openai", base_url: `${url}/v1`, api_key: "k" }),
  },
  {
    name: "anthropic",
    id: "anthropic",
    config: (url) => ({ type: "anthropic", base_url: `${url}/v1`, api_key: "k" }),
  },
  {
    name: "google",
    id: "google",
    config: (url) => ({ type: "google", base_url: `${url}/v1beta`, api_key: "k" }),
  },
  {
    name: "openrouter",
    id: "openrouter",
    config: (url) => ({ type: "openrouter", base_url: `${url}/v1`, api_key: "k" }),
  },
  {
    name: "azure openai",
    id: "azure",
    config: (url) => ({ type: "azure", base_url: `${url}/openai`, api_key: "k" }),
  },
  {
    name: "openai-compatible",
    id: "openai-compatible",
    config: (url) => ({ type: "openai-compatible", base_url: `${url}/v1`, api_key: "k" }),
  },
];

export function flavour(id: FlavourId): Flavour {
  const found = FLAVOURS.find((f) => f.id === id);
  if (!found) throw new Error(`no flavour ${id}`);
  return found;
}

export const TRANSPORTS = [
  { name: "HTTP/1.1", server: { tls: true }, http2: false, httpVersion: "1.1" },
  { name: "HTTP/2", server: { http2: true }, http2: true, httpVersion: "2.0" },
] as const;
