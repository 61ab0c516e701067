import { describe, expect, it } from "vitest";
import { editLines } from "./bodies.tsx";
import { diffRows } from "./FileDiff.tsx";

describe("diffRows", () => {
  it("numbers an edit's lines from where the result says it landed", () => {
    const rows = diffRows([{ before: "a\nb\nc\n", after: "a\nB\nc\n", firstLine: 10 }]);
    expect(rows).toEqual([
      { kind: "ctx", oldNo: 10, newNo: 10, text: "a" },
      { kind: "del", oldNo: 11, text: "b" },
      { kind: "add", newNo: 11, text: "B" },
      { kind: "ctx", oldNo: 12, newNo: 12, text: "c" },
    ]);
  });

  it("has no numbers when the place is not known, and a gap between edits", () => {
    const rows = diffRows([
      { before: "x", after: "y" },
      { before: "gone\n", after: "" },
    ]);
    expect(rows).toEqual([
      { kind: "del", text: "x" },
      { kind: "add", text: "y" },
      { kind: "gap" },
      { kind: "del", text: "gone" },
    ]);
  });

  it("shows a new file as added lines", () => {
    expect(diffRows([{ before: "", after: "1\n2\n", firstLine: 1 }])).toEqual([
      { kind: "add", newNo: 1, text: "1" },
      { kind: "add", newNo: 2, text: "2" },
    ]);
  });
});

describe("editLines", () => {
  it.each<[string, string | undefined, number, Array<number | undefined>]>([
    ["one edit", "Edited a.ts: replaced 1 occurrence (line 12).", 1, [12]],
    [
      "replace_all in several places",
      "Edited a.ts: replaced 2 occurrences (lines 3, 9).",
      1,
      [undefined],
    ],
    [
      "several edits",
      "Edited a.ts with 2 edits: replaced 3 occurrences (edit 1: line 4; edit 2: lines 7, 9). …",
      2,
      [4, undefined],
    ],
    ["no result yet", undefined, 1, [undefined]],
  ])("%s", (_, output, count, expected) => {
    expect(editLines(output, count)).toEqual(expected);
  });
});
