import { describe, expect, it } from "vitest";
import { csvField, csvLine } from "./csv.ts";

describe("csv", () => {
  it.each([
    [null, ""],
    [undefined, ""],
    [42, "42"],
    [-1, "-1"],
    ["plain", "plain"],
    ['say "hi", twice', '"say ""hi"", twice"'],
    ["two\nlines", '"two\nlines"'],
    ['=HYPERLINK("x")', '"\'=HYPERLINK(""x"")"'],
    ["+1", "'+1"],
    ["-1+1", "'-1+1"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\tcmd", "'\tcmd"],
  ])("%j → %s", (value, cell) => {
    expect(csvField(value)).toBe(cell);
  });

  it("a line is its fields joined by commas, ended by CRLF", () => {
    expect(csvLine(["a", null, 3, "=x"])).toBe("a,,3,'=x\r\n");
  });
});
