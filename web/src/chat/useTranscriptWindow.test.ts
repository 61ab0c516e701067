/**
 * What the transcript scrolls by when messages change height (a skipped message's guessed height
 * turning into its own, a message above growing): the view stays on what the reader sees.
 */
import { describe, expect, it } from "vitest";
import { type HeightChange, shiftAbove } from "./useTranscriptWindow.ts";

describe("shiftAbove", () => {
  const cases: Array<[string, HeightChange[], number]> = [
    ["nothing changed", [], 0],
    ["a message above grew", [{ top: -1_000, before: 640, after: 900 }], 260],
    ["a message above shrank", [{ top: -1_000, before: 640, after: 120 }], -520],
    ["one ending right at the viewport's top counts", [{ top: -640, before: 640, after: 700 }], 60],
    ["one the reader sees moves nothing", [{ top: -100, before: 640, after: 900 }], 0],
    ["one below the viewport's top moves nothing", [{ top: 300, before: 640, after: 900 }], 0],
    [
      "several above add up, the visible one is left out",
      [
        { top: -3_000, before: 640, after: 1_200 },
        { top: -1_800, before: 640, after: 100 },
        { top: -50, before: 640, after: 2_000 },
      ],
      20,
    ],
  ];
  it.each(cases)("%s", (_name, changes, shift) => {
    expect(shiftAbove(changes)).toBe(shift);
  });
});
