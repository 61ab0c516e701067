/** The logged-in client and how a command's failure reaches the person: one line, exit 1. */
import { ApiClient, ApiError } from "./client.ts";
import { loadCredentials } from "./config.ts";
import { type CliIO, EXIT_ERROR } from "./io.ts";

/** A failure the user can fix, worded for them; printed without a stack. */
export class UserError extends Error {
  override readonly name = "UserError";
}

/** The API client for the logged-in server, or an error telling the user to log in. */
export async function loggedInClient(): Promise<ApiClient> {
  const credentials = await loadCredentials();
  if (!credentials) {
    throw new UserError(
      "Not logged in. Run `keel login URL` first (or set KEEL_URL and KEEL_TOKEN).",
    );
  }
  return new ApiClient(credentials.url, credentials.token);
}

/** Runs a command body, turning API errors into a message on stderr and exit code 1. */
export async function runCommand(
  io: CliIO,
  body: () => Promise<number | undefined>,
): Promise<void> {
  try {
    io.setExitCode((await body()) ?? 0);
  } catch (error) {
    if (error instanceof ApiError) {
      io.stderr(`error: ${error.describe()}\n`);
      io.setExitCode(EXIT_ERROR);
      return;
    }
    if (error instanceof UserError) {
      io.stderr(`error: ${error.message}\n`);
      io.setExitCode(EXIT_ERROR);
      return;
    }
    throw error;
  }
}

/** A list from a response that is either an array or `{ [key]: array }`. */
export function listOf<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  if (typeof body === "object" && body !== null && key in body) {
    const value = (body as Record<string, unknown>)[key];
    if (Array.isArray(value)) return value as T[];
  }
  return [];
}
