// The server benchmark's probe: another user of the same Keel server making a plain API call
// (`GET /api/v1/chats/{id}` on a chat of their own) every `intervalMs`, one at a time, from a child
// process of its own so that the bench's busy event loop (hundreds of SSE readers) adds nothing to
// what it measures. A call that takes longer than the interval delays the next one (it starts at
// once when it is overdue): a server stalled for 5 s shows as one 5 s call, not as 100.
//
// Protocol (IPC): argv[2] = JSON `ProbeConfig`. Sends `{type: "ready"}` after its first call
// succeeded, calls until it gets "stop", then answers with `ProbeResult` and exits.

import { Agent, fetch as undiciFetch } from "undici";

export interface ProbeConfig {
  /** Keel's base URL. */
  url: string;
  token: string;
  chatId: string;
  intervalMs: number;
}

export interface ProbeResult {
  type: "result";
  /** One per call: [started (epoch ms), took (ms), HTTP status (0: network error)]. */
  calls: Array<[number, number, number]>;
}

export type ProbeMessage = { type: "ready" } | ProbeResult;

const now = (): number => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "{}") as ProbeConfig;
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 1 });
  const calls: Array<[number, number, number]> = [];
  let stopping = false;
  process.on("message", () => {
    stopping = true;
  });
  const call = async (): Promise<number> => {
    const started = now();
    let status = 0;
    try {
      const response = await undiciFetch(`${config.url}/api/v1/chats/${config.chatId}`, {
        headers: { authorization: `Bearer ${config.token}` },
        dispatcher: agent,
      });
      await response.arrayBuffer();
      status = response.status;
    } catch {
      status = 0;
    }
    calls.push([started, now() - started, status]);
    return status;
  };
  const first = await call();
  if (first !== 200) throw new Error(`probe: GET /chats/{id} answered ${first}`);
  calls.length = 0;
  process.send?.({ type: "ready" } satisfies ProbeMessage);
  let next = now();
  while (!stopping) {
    next += config.intervalMs;
    await call();
    const wait = next - now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    else next = now();
  }
  await new Promise<void>((resolve) =>
    process.send?.({ type: "result", calls } satisfies ProbeMessage, () => resolve()),
  );
  await agent.close();
  process.disconnect();
}

process.on("disconnect", () => process.exit(0));
main().catch((error: unknown) => {
  process.stderr.write(
    `probe: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
