/**
 * What the agent hub (hub.ts) and its link to the other replicas (hub-relay.ts) share: a
 * connection, a call in flight and where it was sent, and how frames and failures are made.
 */
import type { WebSocket } from "ws";
import type { Workspace } from "../store/types.ts";
import type { ServerFrame } from "./protocol.ts";

export interface CallResult {
  output: string;
  is_error: boolean;
}

export interface Connection {
  readonly socket: WebSocket;
  readonly workspace: Workspace;
  /** Kept in memory only, to re-check it on every heartbeat (deleted, rotated, deactivated). */
  readonly token: string;
  alive: boolean;
  /** What the agent's hello said of where it runs (null when it did not say). */
  readonly platform: string | null;
  readonly directory: string | null;
  /**
   * Frames dropped on this connection, by what was wrong with them. The first of each kind is
   * logged with its details, the count once when the connection ends: a misbehaving agent cannot
   * turn a flood of frames into a flood of log lines.
   */
  dropped?: Map<string, number>;
  /** The database's record of this connection and its MCP tools, written in order. */
  recorded?: Promise<void>;
  /** Recorded as this replica's (so a record naming another replica means it moved there). */
  held?: boolean;
}

/** A call sent to the replica that holds the workspace's agent (see hub-relay.ts). */
export interface Remote {
  readonly replica: string;
}

export interface PendingCall {
  readonly id: string;
  readonly workspaceId: string;
  readonly frame: Extract<ServerFrame, { type: "call" }>;
  readonly onOutput: ((delta: string) => void) | undefined;
  readonly settle: (result: CallResult) => void;
  /** Where it went: this replica's connection, another replica, or nowhere yet (waiting). */
  sentTo: Connection | Remote | null;
  timer: NodeJS.Timeout | undefined;
  outputBytes: number;
  /**
   * Set when another replica's chat made this call and this replica delivers it to its agent:
   * the origin's replica id. Such a call never waits here; without an agent it is handed back.
   */
  readonly origin?: string;
  /** Bumped by every routing decision, so a slower, older one never overrides a newer one. */
  routing: number;
  /** Whether it was ever sent to another replica (its row is deleted when it settles). */
  relayed: boolean;
  /** Stop was asked for: it is never sent to another connection or replica again. */
  stopped?: boolean;
}

export function isRemote(target: PendingCall["sentTo"]): target is Remote {
  return target !== null && "replica" in target;
}

/** Streamed output, up to `max` per call; the rest is dropped (the result still arrives). */
export function forwardOutput(call: PendingCall, delta: string, max: number): void {
  if (!call.onOutput || call.outputBytes >= max) return;
  const room = max - call.outputBytes;
  const piece = delta.length > room ? delta.slice(0, room) : delta;
  call.outputBytes += piece.length;
  call.onOutput(piece);
}

export function failure(output: string): CallResult {
  return { output, is_error: true };
}

export function send(socket: WebSocket, frame: ServerFrame): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
}

/** No agent came within the wait. */
export function notConnected(seconds: number): string {
  return (
    `The workspace agent is not connected (waited ${seconds} s). The tool did not run. ` +
    "Ask the user to start the workspace's agent (the line on Keel's Workspaces page, " +
    "or `keel agent`) in the workspace, then try again."
  );
}

/** Without a relay (one replica's view), an agent held by another replica cannot be reached. */
export const UNREACHABLE_REPLICA =
  "The workspace agent is connected to another Keel server replica, which this one " +
  "cannot reach yet, so the tool did not run. Tell the user: an operator must route " +
  "the agent and this chat to the same replica (see docs/operations.md).";

export const WORKSPACE_DELETED =
  "This chat's workspace was deleted, so its tools cannot run. Tell the user; they can " +
  "start a new chat in another workspace.";
