import { describe, expect, it } from "vitest";
import { sentCredentials } from "./credentials.ts";
import type { ProviderConfig } from "./types.ts";

describe("sentCredentials", () => {
  it.each([
    ["the API key", { type: "anthropic", api_key: "sk-ant-key" }, ["sk-ant-key"]],
    [
      "every custom header's value, and the token of a 'Scheme token' value",
      {
        type: "openai",
        options: { headers: { "x-team": "team-7", authorization: "Bearer tok-123" } },
      },
      ["team-7", "Bearer tok-123", "tok-123"],
    ],
    [
      "AWS credentials",
      {
        type: "bedrock",
        options: {
          region: "us-east-1",
          access_key_id: "AKIA1",
          secret_access_key: "s3cr3t",
          session_token: "tok",
        },
      },
      ["AKIA1", "s3cr3t", "tok"],
    ],
    [
      "nothing for a configuration without any",
      { type: "openai-compatible", base_url: "http://x" },
      [],
    ],
  ] as const)("lists %s", (_, config, expected) => {
    expect(sentCredentials(config as ProviderConfig)).toEqual(expected);
  });
});
