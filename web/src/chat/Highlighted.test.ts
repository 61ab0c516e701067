import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { Highlighted } from "./Highlighted.tsx";

const html = (text: string, query?: string) =>
  renderToStaticMarkup(createElement(Highlighted, { text, query }));

describe("Highlighted: the words a search matched", () => {
  it.each([
    [
      "a word's start, any case",
      "Deploy the deployment",
      "depl",
      "<mark>Depl</mark>oy the <mark>depl</mark>oyment",
    ],
    ["not inside a word", "redeploy", "deploy", "redeploy"],
    [
      "every word of the query",
      "fix the build",
      "build fix",
      "<mark>fix</mark> the <mark>build</mark>",
    ],
    ["punctuation in the query is not a pattern", "a (b) c", "(b", "a (<mark>b</mark>) c"],
    ["no query: the text as it is", "plain <text>", undefined, "plain &lt;text&gt;"],
    ["letters of any script", "Ärger über Öl", "öl", "Ärger über <mark>Öl</mark>"],
  ])("%s", (_what, text, query, expected) => {
    expect(html(text, query)).toBe(expected);
  });
});
