/** Transport failures by code: Node and undici error codes, HTTP/2 error codes, aborts. */
import { type Rec, str } from "./read.ts";
import { V, type Verdict } from "./verdicts.ts";

// Node and undici error codes.
const TRANSPORT_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "ERR_STREAM_PREMATURE_CLOSE",
  "ERR_SOCKET_CLOSED",
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_INVALID_SESSION",
  "ERR_HTTP2_STREAM_CANCEL",
  "ERR_HTTP2_ERROR",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
  "UND_ERR_DESTROYED",
  "UND_ERR_INFO",
  // Bun's names, as the SDK lists them
  "ConnectionRefused",
  "ConnectionClosed",
  "FailedToOpenSocket",
]);

/** Misconfiguration of the endpoint: the host does not exist, or its certificate is not trusted. */
const ENDPOINT_CODE =
  /^(?:ENOTFOUND|ERR_INVALID_URL|ERR_TLS_CERT_ALTNAME_INVALID|UND_ERR_INVALID_ARG|UND_ERR_NOT_SUPPORTED)$|CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

const ABORT_CODES = new Set(["ABORT_ERR", "UND_ERR_ABORTED", "UND_ERR_ABORT"]);

/** nghttp2 error codes by number (RFC 9113 §7). */
const HTTP2_CODES = [
  "NO_ERROR",
  "PROTOCOL_ERROR",
  "INTERNAL_ERROR",
  "FLOW_CONTROL_ERROR",
  "SETTINGS_TIMEOUT",
  "STREAM_CLOSED",
  "FRAME_SIZE_ERROR",
  "REFUSED_STREAM",
  "CANCEL",
  "COMPRESSION_ERROR",
  "CONNECT_ERROR",
  "ENHANCE_YOUR_CALM",
  "INADEQUATE_SECURITY",
  "HTTP_1_1_REQUIRED",
] as const;

/**
 * A peer's HTTP/2 reset. PROTOCOL_ERROR means we spoke HTTP/2 wrongly (or a proxy cannot): config.
 * So do the other "you are broken" codes. Every other code (NO_ERROR, INTERNAL_ERROR,
 * REFUSED_STREAM, CANCEL, ENHANCE_YOUR_CALM, flow control, …) is a transient reset.
 */
const HTTP2_CONFIG_CODES = new Set([
  "PROTOCOL_ERROR",
  "FRAME_SIZE_ERROR",
  "COMPRESSION_ERROR",
  "INADEQUATE_SECURITY",
  "HTTP_1_1_REQUIRED",
]);

function http2Verdict(code: string | undefined): Verdict {
  return code !== undefined && HTTP2_CONFIG_CODES.has(code) ? V.configHttp2 : V.timeoutTransport;
}

/**
 * What a Node/undici error says by its code and, for HTTP/2, by its error code (`http2ErrorCode`
 * or the number or NGHTTP2 name in the message).
 */
export function errorCodeVerdict(
  code: string | undefined,
  message: string,
  http2: unknown,
): Verdict[] {
  const verdicts: Verdict[] = [];
  // Node says "Stream closed with error code NGHTTP2_CANCEL" or "Session closed with error code
  // 2"; undici adds the number as `http2ErrorCode`.
  const numbered = /error code (\d+)\b/.exec(message)?.[1];
  const h2Number = typeof http2 === "number" ? http2 : numbered ? Number(numbered) : undefined;
  const h2Name =
    /NGHTTP2_([A-Z0-9_]+)/.exec(message)?.[1] ??
    (h2Number === undefined ? undefined : HTTP2_CODES[h2Number]);
  if (code === "ERR_HTTP2_STREAM_ERROR" || code === "ERR_HTTP2_SESSION_ERROR") {
    verdicts.push(http2Verdict(h2Name));
  } else if (typeof http2 === "number") {
    verdicts.push(http2Verdict(h2Name));
  }
  if (code === undefined) return verdicts;
  if (code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH") verdicts.push(V.bodyMismatch);
  else if (TRANSPORT_CODES.has(code) || code.startsWith("HPE_")) verdicts.push(V.timeoutTransport);
  else if (ENDPOINT_CODE.test(code)) verdicts.push(V.configEndpoint);
  return verdicts;
}

/** An abort by shape (name or code): it carries no intent of its own. */
export function isAbortShaped(node: Rec): boolean {
  const name = str(node.name);
  if (name === "AbortError" || name === "ResponseAborted") return true;
  const code = str(node.code);
  return code !== undefined && ABORT_CODES.has(code);
}
