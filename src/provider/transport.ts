import { rootCertificates } from "node:tls";
import { Agent, fetch as undiciFetch } from "undici";

/** Knobs for the one HTTP client every provider shares. */
export interface TransportOptions {
  /** TCP+TLS connect deadline. */
  connectTimeoutMs?: number;
  /** Deadline for the response headers after the request is sent. */
  headersTimeoutMs?: number;
  /** How long an idle keep-alive connection is kept. */
  keepAliveTimeoutMs?: number;
  /** Negotiate HTTP/2 by ALPN where the provider offers it. Default true. */
  http2?: boolean;
  /** Extra PEM certificates to trust besides the system roots (private gateways, tests). */
  extraCaCerts?: string[];
}

export const DEFAULT_TRANSPORT: Required<Omit<TransportOptions, "extraCaCerts">> = {
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 120_000,
  keepAliveTimeoutMs: 60_000,
  http2: true,
};

/**
 * One shared undici dispatcher: keep-alive everywhere, HTTP/2 by ALPN, so many concurrent chats
 * multiplex onto few connections. The body has no idle timeout here on purpose: silence is the
 * silence guard's call (chatloop), which can tell a stalled stream from a stopped chat.
 */
export class Transport {
  readonly dispatcher: Agent;
  readonly fetch: typeof globalThis.fetch;

  constructor(options: TransportOptions = {}) {
    // Field by field, so an option passed as `undefined` (an unset CLI flag) keeps its default.
    const settings = {
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_TRANSPORT.connectTimeoutMs,
      headersTimeoutMs: options.headersTimeoutMs ?? DEFAULT_TRANSPORT.headersTimeoutMs,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? DEFAULT_TRANSPORT.keepAliveTimeoutMs,
      http2: options.http2 ?? DEFAULT_TRANSPORT.http2,
    };
    const ca = options.extraCaCerts?.length
      ? [...rootCertificates, ...options.extraCaCerts]
      : undefined;
    this.dispatcher = new Agent({
      allowH2: settings.http2,
      keepAliveTimeout: settings.keepAliveTimeoutMs,
      headersTimeout: settings.headersTimeoutMs,
      bodyTimeout: 0,
      connect: { timeout: settings.connectTimeoutMs, ...(ca ? { ca } : {}) },
    });
    const dispatcher = this.dispatcher;
    // undici's fetch and the global one differ only in their declared types.
    this.fetch = ((
      input: Parameters<typeof undiciFetch>[0],
      init?: Parameters<typeof undiciFetch>[1],
    ) => undiciFetch(input, { ...init, dispatcher })) as unknown as typeof globalThis.fetch;
  }

  async close(): Promise<void> {
    await this.dispatcher.destroy();
  }
}
