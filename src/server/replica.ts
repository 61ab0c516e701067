/**
 * This server's identity as a replica (the chat daemon's worker id, the agent hub's replica id),
 * kept in `<data dir>/replica-id` so that it outlives the process: a server restarted after a
 * crash recognises the chats its previous run owned and takes them back at once, instead of
 * waiting for their heartbeat to go stale. One keel server per data directory (the data dir's
 * lock) keeps the identity unique.
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";

export async function replicaId(dataDir: string): Promise<string> {
  const file = join(dataDir, "replica-id");
  const read = async () => (await readFile(file, "utf8")).trim();
  try {
    const id = await read();
    if (id !== "") return id;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ENOENT") throw error;
  }
  const id = `${hostname()}:${randomBytes(6).toString("hex")}`;
  try {
    await writeFile(file, `${id}\n`, { flag: "wx", mode: 0o600 });
    return id;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "EEXIST") throw error;
    return read();
  }
}
