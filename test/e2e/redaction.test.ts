/**
 * DESIGN.md §8: nothing a provider echoes back (the API key, a custom header's value, a
 * `Bearer …`) is stored, logged, evented or returned unredacted. A real `keel server` on its
 * embedded database, its HTTP API and SSE, and the fake provider echoing what Keel sent it.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApiClient, type StreamEvent } from "../../src/cli/client.ts";
import {
  errorReply,
  type FakeProvider,
  midStreamError,
  type Script,
  startFakeProvider,
} from "../fakeprovider/index.ts";
import { freePort, type KeelProcess, startKeel } from "./support/keel-process.ts";

const API_KEY = "sk-ant-api03-e2eSecretKey7Qm4Zp9";
const GATEWAY_HEADER = "x-gateway-token";
const GATEWAY_TOKEN = "gwtok-51c0f9e2a7b84d36";
const SECRETS = [API_KEY, GATEWAY_TOKEN];
const REDACTED = "[redacted]";

interface ChatView {
  id: string;
  status: string;
  last_error: { kind: string; message: string; detail?: string } | null;
}

/** Every response body the tests saw. */
const bodies: string[] = [];

async function call<T>(
  url: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
) {
  const response = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  bodies.push(text);
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Follows a chat's events from the start until it is idle again (`waiting` or `error`). */
async function followToIdle(url: string, token: string, chatId: string): Promise<StreamEvent[]> {
  const seen: StreamEvent[] = [];
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 20_000);
  try {
    await new ApiClient(url, token).followEvents(
      `/chats/${chatId}/stream`,
      (event) => {
        seen.push(event);
        const status = (event.data as { status?: string }).status;
        const ran = seen.some(
          (e) => e.event === "status" && (e.data as { status: string }).status === "running",
        );
        return event.event === "status" && ran && (status === "waiting" || status === "error")
          ? "stop"
          : undefined;
      },
      { signal: controller.signal },
    );
  } finally {
    clearTimeout(timer);
  }
  if (controller.signal.aborted) throw new Error(`timed out following ${chatId}`);
  return seen;
}

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

/** An Anthropic in-band error event of a type Keel does not know, so its words become the message. */
function unknownInBandError(message: string): Script {
  const frame = { type: "error", error: { type: "gateway_error", message } };
  return {
    kind: "stream",
    events: [
      { type: "text", text: "Hel" },
      { type: "raw", data: `event: error\ndata: ${JSON.stringify(frame)}\n\n` },
    ],
    end: "truncate",
  };
}

describe("credentials a provider echoes", () => {
  let fake: FakeProvider;
  let keel: KeelProcess;
  let admin: string;
  let modelId: string;

  beforeAll(async () => {
    fake = await startFakeProvider();
    const dataDir = mkdtempSync(join(tmpdir(), "keel-redaction-"));
    keel = await startKeel({ dataDir, port: await freePort() });
    const first = await call<{ session_token: string }>(
      keel.url,
      undefined,
      "POST",
      "/users/first",
      {
        username: "owner",
        email: "owner@example.com",
        password: "a long enough password",
      },
    );
    admin = first.body.session_token;
    const provider = await call<{ id: string }>(keel.url, admin, "POST", "/providers", {
      type: "anthropic",
      name: "Anthropic (fake)",
      base_url: `${fake.url}/v1`,
      api_key: API_KEY,
      options: { headers: { [GATEWAY_HEADER]: GATEWAY_TOKEN } },
    });
    const model = await call<{ id: string }>(keel.url, admin, "POST", "/models", {
      provider_id: provider.body.id,
      model: "claude-test",
    });
    modelId = model.body.id;
  }, 60_000);

  afterAll(async () => {
    await keel?.stop();
    await fake?.close();
    // Nothing the API answered, and nothing the server logged, holds what was sent.
    expectNoSecret(bodies.join("\n"));
    expectNoSecret(keel.output());
  });

  beforeEach(() => fake.reset());

  it.each([
    [
      "a 401 whose body echoes the API key and the custom header",
      errorReply("auth", {
        message: `invalid x-api-key ${API_KEY} (with ${GATEWAY_HEADER} ${GATEWAY_TOKEN})`,
      }),
      "auth",
    ],
    [
      "a 400 whose body echoes the Authorization header",
      errorReply("invalid_request", {
        message: `Authorization: Bearer ${API_KEY} cannot be combined with ${GATEWAY_TOKEN}`,
      }),
      "config",
    ],
    [
      "an error event mid-stream that echoes them",
      midStreamError("Hel", "invalid_request", {
        message: `bad credentials: x-api-key ${API_KEY}, ${GATEWAY_HEADER}: ${GATEWAY_TOKEN}`,
      }),
      "config",
    ],
  ])(
    "%s: last_error, events and the API show [redacted], never the secret",
    async (_, script, kind) => {
      fake.enqueue(script);
      const created = await call<{ id: string }>(keel.url, admin, "POST", "/chats", {
        model_id: modelId,
        content: [{ type: "text", text: "hi" }],
      });
      const events = await followToIdle(keel.url, admin, created.body.id);
      const { body } = await call<{ chat: ChatView }>(
        keel.url,
        admin,
        "GET",
        `/chats/${created.body.id}`,
      );

      // Keel did send them, and the provider did echo them.
      expect(fake.requests[0]?.headers["x-api-key"]).toBe(API_KEY);
      expect(fake.requests[0]?.headers[GATEWAY_HEADER]).toBe(GATEWAY_TOKEN);

      expect(body.chat.status).toBe("error");
      expect(body.chat.last_error?.kind).toBe(kind);
      expect(body.chat.last_error?.detail).toContain(REDACTED);
      expectNoSecret(JSON.stringify(body.chat.last_error));
      expect(events.filter((e) => e.event === "error")).toHaveLength(1);
      expectNoSecret(JSON.stringify(events.map((e) => e.data)));
    },
  );

  it("an unknown error event's words reach the message and the error event redacted", async () => {
    fake.enqueue(unknownInBandError(`gateway refused Bearer ${API_KEY} for ${GATEWAY_TOKEN}`));
    const created = await call<{ id: string }>(keel.url, admin, "POST", "/chats", {
      model_id: modelId,
      content: [{ type: "text", text: "hi" }],
    });
    const events = await followToIdle(keel.url, admin, created.body.id);
    const { body } = await call<{ chat: ChatView }>(
      keel.url,
      admin,
      "GET",
      `/chats/${created.body.id}`,
    );

    const error = events.find((e) => e.event === "error")?.data as { message: string } | undefined;
    expect(error?.message).toContain(REDACTED);
    expect(body.chat.last_error?.message).toContain(REDACTED);
    expectNoSecret(JSON.stringify(body.chat.last_error));
    expectNoSecret(JSON.stringify(events.map((e) => e.data)));
  });
});
