/** Small helpers every aggregate's queries share. */
import { ConflictError } from "./contract.ts";
import { FOREIGN_KEY_VIOLATION, sqlState, UNIQUE_VIOLATION } from "./db.ts";

/** `SET a = $2, b = $3::jsonb, ` for the fields a patch carries (`$1` is the row's id). */
export class Assignments {
  readonly params: unknown[] = [];
  readonly #parts: string[] = [];

  add(column: string, value: unknown, cast?: "jsonb" | "text[]"): void {
    this.params.push(value);
    this.#parts.push(`${column} = $${this.params.length + 1}${cast ? `::${cast}` : ""}`);
  }

  sql(): string {
    return this.#parts.map((part) => `${part}, `).join("");
  }
}

export function must<T>(row: T | undefined): T {
  if (row === undefined) throw new Error("the database returned no row");
  return row;
}

/** Maps a unique or foreign-key violation to ConflictError; rethrows anything else. */
export function conflict(message: string): (error: unknown) => never {
  return (error) => {
    const state = sqlState(error);
    if (state === UNIQUE_VIOLATION || state === FOREIGN_KEY_VIOLATION) {
      throw new ConflictError(message);
    }
    throw error;
  };
}
