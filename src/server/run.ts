/**
 * The rest of `keel server` once its database is open: the shared provider transport, the agent
 * hub, the chat daemon, the chat service and the HTTP API (with the web UI at `/`), started in
 * that order and stopped in reverse, the database last. Loaded by `startServer` while the
 * database starts.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { createApi, type Logger } from "../api/index.ts";
import { ChatDaemon, createChatService } from "../chatd/index.ts";
import { ToolRegistry } from "../chatloop/tools.ts";
import { McpManager } from "../mcp/index.ts";
import { Transport } from "../provider/index.ts";
import type { Store } from "../store/index.ts";
import { AgentHub } from "../workspace/hub.ts";
import { hubWorkspaceSource } from "../workspace/instructions.ts";
import { LocalAgents } from "../workspace/local-agents.ts";
import { CallRelay } from "../workspace/relay.ts";
import { serverDirectoryGate, WorkspaceToolCache } from "../workspace/remote-tools.ts";
import { AgentSupervisor } from "../workspace/supervisor.ts";
import {
  AGENT_BUNDLE_ROUTE,
  agentBundle,
  agentBundleBuilt,
  DEFAULT_AGENT_BUNDLE,
} from "./agent-bundle.ts";
import { auditRetentionTask, chatRetentionTask, startHousekeeping } from "./housekeeping.ts";
import type { RunningServer, ServerConfig } from "./index.ts";
import { replicaId } from "./replica.ts";
import { DEFAULT_WEB_DIR, webUi, webUiBuilt } from "./web.ts";

function listen(server: Server): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    if (server.listening) {
      resolve(server.address() as AddressInfo);
      return;
    }
    server.once("listening", () => resolve(server.address() as AddressInfo));
    server.once("error", reject);
  });
}

const KEEL_BIN = join(import.meta.dirname, "../../bin/keel.js");

/**
 * An agent process per workspace with a server-side directory that this replica created (its
 * machine holds the directory); other replicas reach it through the agent relay. Workspaces
 * recorded with no replica (older ones) are run by the embedded database's one server only.
 */
function startLocalAgents(
  store: Store,
  address: AddressInfo,
  logger: Logger,
  replica: string,
): LocalAgents {
  // Listening on every interface: the children take loopback; else the address listened on.
  const any = address.address === "0.0.0.0" || address.address === "::";
  const host = any
    ? "127.0.0.1"
    : address.family === "IPv6"
      ? `[${address.address}]`
      : address.address;
  const supervisor = new AgentSupervisor({
    serverUrl: `http://${host}:${address.port}`,
    keelBin: KEEL_BIN,
    log: (line) => logger.info("local agent", { line }),
  });
  const local = new LocalAgents({
    store: store.workspaces,
    supervisor,
    replicaId: replica,
    adoptUnrecorded: store.kind === "embedded",
    log: (message, fields) => logger.info(message, fields),
  });
  local.start();
  return local;
}

export async function runServer(
  config: ServerConfig,
  store: Store,
  logger: Logger,
): Promise<RunningServer> {
  const transport = new Transport();
  const workerId = await replicaId(config.dataDir);
  // Directory workspaces created here are run here: this machine holds their directories.
  store.workspaces.setReplica(workerId);
  // Workspace agents connect here; a chat bound to a workspace gets its tools over that link, or
  // over the replica that holds the agent (a shared database: the relay through PostgreSQL).
  const relay =
    store.kind === "external"
      ? new CallRelay({
          calls: store.workspaces.calls,
          workspaces: store.workspaces,
          replicaId: workerId,
          logger,
        })
      : undefined;
  const agents = new AgentHub({ store: store.workspaces, replicaId: workerId, logger, relay });
  // A server-side directory runs as this server's OS user: only for admins, at every call.
  const gate = serverDirectoryGate(store);
  const workspaceTools = new WorkspaceToolCache(agents, gate);
  // A workspace chat's instructions: its agent's OS and directory, its AGENTS.md (DESIGN.md §7).
  const workspaces = hubWorkspaceSource(agents, gate);
  const noTools = new ToolRegistry();
  // Admin-configured MCP servers: their tools reach every chat, with or without a workspace.
  const mcp = new McpManager({ store: store.mcpServers, logger, ...config.mcp });
  const daemon = new ChatDaemon({
    store,
    transport,
    workerId,
    toolsFor: async (chat) =>
      mcp.registryFor(chat.workspace_id ? await workspaceTools.for(chat.workspace_id) : noTools),
    workspaces,
    policy: config.policy,
    silenceMs: config.silenceMs,
    concurrency: config.maxRunningChats,
    // Heartbeats and looks for dead replicas' chats a few times per takeover delay.
    ...(config.chatTakeoverAfterMs === undefined
      ? {}
      : {
          staleMs: config.chatTakeoverAfterMs,
          heartbeatIntervalMs: Math.min(5_000, config.chatTakeoverAfterMs / 3),
          recoverIntervalMs: Math.min(5_000, config.chatTakeoverAfterMs / 3),
        }),
    titles: config.titles ?? true,
    logger,
  });
  const chats = createChatService(store, {
    workspaces,
    onError: (error) => logger.error("event stream consumer failed", { error }),
  });
  const shutdown = new AbortController();
  let ready = false;
  const app = createApi({
    store,
    chats,
    logger,
    // An admin's "Test connection" goes over the very client the chats use.
    transport,
    options: { secureCookies: config.secureCookies, ready: () => ready, shutdown: shutdown.signal },
  });
  // The standalone agent a workspace downloads (the Workspaces page's one-liner).
  const agentFile = config.agentBundle ?? DEFAULT_AGENT_BUNDLE;
  app.get(AGENT_BUNDLE_ROUTE, agentBundle({ file: agentFile }));
  if (!(await agentBundleBuilt(agentFile))) {
    logger.warn(
      `the workspace agent is not built (\`npm run build\`): ${AGENT_BUNDLE_ROUTE} answers 404`,
      { file: agentFile },
    );
  }
  // After the API's routes: the UI only answers what none of them did (and never /api/*).
  const webDir = config.webDir ?? DEFAULT_WEB_DIR;
  app.get("*", webUi({ webDir }));
  if (!(await webUiBuilt(webDir))) {
    logger.warn("the web UI is not built (`npm run build`): / answers 503 until it is", {
      web_dir: webDir,
    });
  }

  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }) as Server;
  server.on("upgrade", (request, socket, head) => {
    if (!agents.handleUpgrade(request, socket, head)) socket.destroy();
  });
  let address: AddressInfo;
  try {
    address = await listen(server);
  } catch (error) {
    await mcp.close();
    await agents.close();
    await store.close();
    await transport.close();
    throw error;
  }
  try {
    await agents.start();
  } catch (error) {
    server.close();
    await mcp.close();
    await agents.close();
    await store.close();
    await transport.close();
    throw error;
  }
  await daemon.start();
  ready = true;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  const localAgents = startLocalAgents(store, address, logger, workerId);
  // Chat and audit retention, as the deployment's settings say: at start and hourly, one
  // replica at a time.
  const housekeeping = startHousekeeping({
    tasks: [chatRetentionTask(store), auditRetentionTask(store)],
    logger,
  });
  logger.info("keel server listening", { url, database: store.kind, data_dir: config.dataDir });

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= (async () => {
        ready = false;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        shutdown.abort();
        await housekeeping.stop();
        await daemon.shutdown();
        await mcp.close();
        await localAgents.close();
        await agents.close();
        server.closeAllConnections();
        await stopped;
        await transport.close();
        await store.close();
        logger.info("keel server stopped");
      })();
      return closing;
    },
  };
}
