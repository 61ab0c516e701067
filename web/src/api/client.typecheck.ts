/**
 * Proof, for `tsc -p web`, that `request` is checked against the server's routes: every
 * `@ts-expect-error` below is a call the server would refuse, and fails the type-check the day it
 * stops being an error. Never called (the bundle does not import this file).
 */
import { request } from "./request.ts";

export function wrongCalls(): void {
  // A path the server does not serve.
  // @ts-expect-error no such route
  void request("GET", "/chat");
  // A method the path does not take.
  // @ts-expect-error `/setup` is GET only
  void request("POST", "/setup");
  // @ts-expect-error the path parameter is missing
  void request("GET", "/chats/{id}");
  // @ts-expect-error the path parameter has another name
  void request("GET", "/chats/{id}", { params: { chat_id: "c1" } });
  // @ts-expect-error the body is required
  void request("POST", "/chats/{id}/messages", { params: { id: "c1" } });
  // @ts-expect-error a body field the server refuses (it takes `content`)
  void request("POST", "/chats/{id}/messages", { params: { id: "c1" }, body: { text: "hi" } });
  // @ts-expect-error a body where the operation takes none
  void request("POST", "/chats/{id}/interrupt", { params: { id: "c1" }, body: {} });
  // @ts-expect-error `archived` is "true" | "false", not a boolean
  void request("GET", "/chats", { query: { archived: true } });
  // @ts-expect-error a query parameter the route does not declare
  void request("GET", "/chats", { query: { sort: "title" } });
}

export async function rightCalls(): Promise<void> {
  const list = await request("GET", "/chats", { query: { q: "deploy", archived: "true" } });
  const titles: string[] = list.chats.map((chat) => chat.title);
  // 202: nothing to read.
  const accepted: undefined = await request("POST", "/chats/{id}/messages", {
    params: { id: "c1" },
    body: { content: [{ type: "text", text: "hi" }] },
  });
  void titles;
  void accepted;
}
