/**
 * Test support for chatloop: an in-memory transcript for `runTurn` (chatd's tests use the real
 * store), a publisher that records, and the fake provider's model for a describe block.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { type FakeProvider, startFakeProvider } from "../../test/fakeprovider/index.ts";
import { type ChatModel, createChatModel, Transport } from "../provider/index.ts";
import type { NewMessage } from "../store/contract.ts";
import type { Message } from "../store/types.ts";
import { SerialPublisher } from "./publish.ts";
import type { TurnStore } from "./turn.ts";

export class MemoryTranscript implements TurnStore {
  readonly messages: Message[] = [];
  /** Every save of a message in progress, in order. */
  readonly saves: Array<{ id: string; parts: Message["parts"] }> = [];
  async listMessages(): Promise<Message[]> {
    return [...this.messages];
  }
  async insertMessage(chatId: string, input: NewMessage): Promise<Message> {
    const message: Message = {
      id: input.id ?? randomUUID(),
      chat_id: chatId,
      role: input.role,
      parts: input.parts,
      usage: input.usage ?? null,
      model_id: input.model_id ?? null,
      in_progress: input.in_progress ?? false,
      stopped: input.stopped ?? false,
      retries: input.retries ?? null,
      cost_usd: input.usage ? (input.cost_usd ?? null) : null,
      created_at: new Date().toISOString(),
    };
    this.messages.push(message);
    return message;
  }
  async saveMessage(chatId: string, input: NewMessage & { id: string }): Promise<Message> {
    if (input.in_progress) this.saves.push({ id: input.id, parts: input.parts });
    const index = this.messages.findIndex((m) => m.id === input.id);
    const old = this.messages[index];
    if (!old) return this.insertMessage(chatId, input);
    const saved: Message = {
      ...old,
      parts: input.parts,
      usage: input.usage ?? null,
      cost_usd: input.usage ? (input.cost_usd ?? null) : null,
      model_id: input.model_id ?? null,
      in_progress: input.in_progress ?? false,
      stopped: input.stopped ?? false,
      retries: input.retries ?? null,
    };
    this.messages[index] = saved;
    return saved;
  }
  async deleteMessage(_chatId: string, id: string): Promise<boolean> {
    const index = this.messages.findIndex((m) => m.id === id);
    if (index >= 0) this.messages.splice(index, 1);
    return index >= 0;
  }
  user(text: string): void {
    void this.insertMessage("chat", { role: "user", parts: [{ type: "text", text }] });
  }
}

/** An event the turn published, as a test reads it. */
export interface RecordedEvent {
  type: string;
  data: Record<string, unknown>;
}

/** A publisher that keeps every event, in order. */
export function recordingPublisher(): { events: RecordedEvent[]; publisher: SerialPublisher } {
  const events: RecordedEvent[] = [];
  const publisher = new SerialPublisher(async (type, data) => {
    events.push({ type, data: data as Record<string, unknown> });
  });
  return { events, publisher };
}

/**
 * The fake provider over real sockets and an Anthropic-format model on it, for a describe block:
 * started once, the fake's scripts and requests forgotten before each test, closed at the end.
 */
export function useFakeModel(): { readonly fake: FakeProvider; readonly model: ChatModel } {
  let fake: FakeProvider | undefined;
  let transport: Transport | undefined;
  let model: ChatModel | undefined;
  beforeAll(async () => {
    fake = await startFakeProvider();
    transport = new Transport({ http2: false });
    model = createChatModel(
      { type: "anthropic", base_url: `${fake.url}/v1`, api_key: "k" },
      "claude-test",
      transport,
    );
  });
  beforeEach(() => fake?.reset());
  afterAll(async () => {
    await transport?.close();
    await fake?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the fake model is used before its beforeAll ran");
    return value;
  };
  return {
    get fake() {
      return started(fake);
    },
    get model() {
      return started(model);
    },
  };
}
