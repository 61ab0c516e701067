/** `keel login`: a session token from email and password (or the first user), saved for later. */
import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";
import { Command, Option } from "commander";
import { ApiClient } from "./client.ts";
import { saveCredentials } from "./config.ts";
import type { CliIO } from "./io.ts";
import { runCommand, UserError } from "./session.ts";

/** What `keel login` asks for when a flag does not give it, and how to give it without a terminal. */
export const WITHOUT_TERMINAL = {
  username: "No terminal to ask for the owner's username: pass --username.",
  email: "No terminal to ask for your email: pass --email.",
  password:
    "No terminal to ask for the password: pipe it to --password-stdin " +
    "(printf '%s\\n' \"$PASSWORD\" | keel login URL --email … --password-stdin) or set KEEL_PASSWORD.",
} as const;

/** Asks on the terminal; `secret` answers are not echoed. */
async function prompt(
  question: string,
  what: keyof typeof WITHOUT_TERMINAL,
  secret = false,
): Promise<string> {
  if (!process.stdin.isTTY) throw new UserError(WITHOUT_TERMINAL[what]);
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    const answer = rl.question(question);
    muted = secret;
    return (await answer).trim();
  } finally {
    if (secret) process.stderr.write("\n");
    rl.close();
  }
}

async function readPassword(io: CliIO, fromStdin: boolean): Promise<string> {
  if (fromStdin) {
    if (!io.readStdin) throw new UserError("--password-stdin needs standard input.");
    return (await io.readStdin()).replace(/\r?\n$/, "");
  }
  return process.env.KEEL_PASSWORD || (await prompt("Password: ", "password", true));
}

interface LoginOptions {
  email?: string;
  passwordStdin?: boolean;
  token?: string;
  firstUser?: boolean;
  username?: string;
}

export function loginCommand(io: CliIO): Command {
  return new Command("login")
    .description(
      "Log in to a Keel server and remember it for the other commands. On a new server, " +
        "--first-user creates the owner (admin) account.",
    )
    .argument("<url>", "the server, e.g. http://127.0.0.1:3000")
    .option("--email <email>", "your email (asked when omitted)")
    .option(
      "--password-stdin",
      "read the password from standard input (else KEEL_PASSWORD, else asked)",
    )
    .addOption(
      new Option("--token <token>", "an API token instead of email and password").env("KEEL_TOKEN"),
    )
    .option("--first-user", "create the server's first user (the owner) and log in as them")
    .option("--username <name>", "with --first-user: the owner's username")
    .action((url: string, options: LoginOptions) =>
      runCommand(io, async () => {
        let token = options.token;
        if (!token) {
          const client = new ApiClient(url);
          const username = options.firstUser
            ? (options.username ?? (await prompt("Username: ", "username")))
            : undefined;
          const email = options.email ?? (await prompt("Email: ", "email"));
          const password = await readPassword(io, options.passwordStdin ?? false);
          if (username !== undefined) {
            const created = await client.post<{ session_token: string }>("/users/first", {
              username,
              email,
              password,
            });
            token = created.session_token;
          } else {
            token = (
              await client.post<{ session_token: string }>("/users/login", { email, password })
            ).session_token;
          }
        }
        const me = await new ApiClient(url, token).get<{
          user: { username: string; role: string };
        }>("/users/me");
        const path = await saveCredentials({ url, token });
        io.stderr(
          `Logged in to ${url} as ${me.user.username} (${me.user.role}); credentials saved in ${path}.\n`,
        );
        return 0;
      }),
    );
}
