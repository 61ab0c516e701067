import { describe, expect, it } from "vitest";
import { interruptedOutput, OutputSoFar } from "./output-so-far.ts";

describe("OutputSoFar", () => {
  it("keeps everything while it fits", () => {
    const out = new OutputSoFar(10);
    out.push("abc");
    out.push("defg");
    expect(out.text()).toBe("abcdefg");
  });

  it("keeps the first and the last characters, saying how many were left out", () => {
    const out = new OutputSoFar(3);
    for (const delta of ["ab", "cdef", "ghij"]) out.push(delta);
    expect(out.text()).toBe("abc\n… 4 characters omitted …\nhij");
  });

  it("many small deltas past twice the kept size: the same head, tail and count, asked twice", () => {
    const out = new OutputSoFar(3);
    for (const char of "abcdefghijklmnop") out.push(char);
    expect(out.text()).toBe("abc\n… 10 characters omitted …\nnop");
    expect(out.text()).toBe("abc\n… 10 characters omitted …\nnop");
  });
});

describe("interruptedOutput", () => {
  it.each([
    ["", "The tool call was interrupted: stop"],
    ["x\n", "x\n[The tool call was interrupted: stop]"],
    ["x", "x\n[The tool call was interrupted: stop]"],
  ])("after %j", (soFar, expected) => {
    expect(interruptedOutput(soFar, "stop")).toBe(expected);
  });
});
