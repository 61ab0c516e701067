/**
 * An admin's "which tools does this server offer?": a fresh connection (never the chats' shared
 * one, so a check sees the server as it is now), the listing, and which of the tools chats get.
 */
import type { McpServerConfig } from "../store/contract.ts";
import { connectClient, listAllTools } from "./connection.ts";
import { mcpFailure } from "./errors.ts";
import { type OfferedTool, offeredTools } from "./naming.ts";

/** Lists the server's tools within `timeoutMs`; throws an McpServerError saying what failed. */
export async function probeTools(
  server: McpServerConfig,
  options: { timeoutMs?: number; version?: string } = {},
): Promise<OfferedTool[]> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = AbortSignal.timeout(timeoutMs);
  let client: Awaited<ReturnType<typeof connectClient>> | undefined;
  try {
    client = await connectClient(server, {
      signal: deadline,
      timeoutMs,
      version: options.version ?? "0.1.0",
    });
    return offeredTools(server, await listAllTools(client, { signal: deadline, timeoutMs }));
  } catch (error) {
    throw mcpFailure(error, {
      server: server.name,
      doing: "listing its tools",
      timeoutMs,
      deadline,
      secrets: Object.values(server.headers),
    });
  } finally {
    await client?.close().catch(() => {});
  }
}
