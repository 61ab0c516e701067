/** Small file-system facts and chores of the embedded PostgreSQL's data directory. */
import { constants } from "node:fs";
import { access, chmod, readdir } from "node:fs/promises";
import { join } from "node:path";

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** Takes every permission of group and others off `dir` and everything below it. */
export async function makePrivate(dir: string): Promise<void> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  await chmod(dir, 0o700);
  for (const entry of entries) {
    if (entry.isSymbolicLink()) continue;
    await chmod(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o700 : 0o600);
  }
}
