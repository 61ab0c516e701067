/** Test support for chatloop: an in-memory transcript for `runTurn` (chatd's tests use the real store). */
import { randomUUID } from "node:crypto";
import type { NewMessage } from "../store/contract.ts";
import type { Message } from "../store/types.ts";
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
