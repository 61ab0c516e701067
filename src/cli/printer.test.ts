import { describe, expect, it } from "vitest";
import { ReplyPrinter } from "./printer.ts";

function run(attempts: string[][]): { out: string; notices: string[] } {
  let out = "";
  const notices: string[] = [];
  const printer = new ReplyPrinter(
    (text) => {
      out += text;
    },
    (text) => notices.push(text),
  );
  for (const deltas of attempts) {
    printer.newAttempt();
    for (const delta of deltas) printer.write(delta);
  }
  return { out, notices };
}

describe("ReplyPrinter", () => {
  it.each([
    { name: "a single attempt streams straight through", attempts: [["Hel", "lo"]], out: "Hello" },
    {
      name: "a retry that repeats the partial text prints only the rest",
      attempts: [["Hello wo"], ["Hel", "lo w", "orld", "!"]],
      out: "Hello world!",
    },
    {
      name: "a retry shorter than the partial text prints nothing new",
      attempts: [["Hello wo"], ["Hel"]],
      out: "Hello wo",
    },
    {
      name: "a retry after an attempt that printed nothing streams straight through",
      attempts: [[], ["Hi"]],
      out: "Hi",
    },
    {
      name: "a retry that diverges starts a fresh line with the whole new reply",
      attempts: [["Hello wo"], ["Hi", " there"]],
      out: "Hello wo\nHi there",
    },
  ])("$name", ({ attempts, out }) => {
    expect(run(attempts).out).toBe(out);
  });

  it("says on the side channel when the retried reply diverges", () => {
    expect(run([["abc"], ["x"]]).notices).toHaveLength(1);
    expect(run([["abc"], ["abcd"]]).notices).toHaveLength(0);
  });
});
