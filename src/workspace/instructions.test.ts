import { describe, expect, it } from "vitest";
import { textOfReadFile } from "./instructions.ts";

describe("textOfReadFile", () => {
  it("takes read_file's numbered lines back to the file's text", () => {
    expect(textOfReadFile("     1\t# Rules\n     2\t\n     3\tRun\tnpm test")).toEqual({
      text: "# Rules\n\nRun\tnpm test",
      more: false,
    });
  });

  it("says when the file goes on past what was read", () => {
    const output =
      "     1\ta\n     2\tb\n\n[Showing lines 1–2 of 9 of AGENTS.md. To read more, call read_file with offset=3.]";
    expect(textOfReadFile(output)).toEqual({ text: "a\nb", more: true });
  });

  it("reads an empty file as empty", () => {
    expect(textOfReadFile("AGENTS.md is empty.")).toEqual({ text: "", more: false });
  });
});
