import { APICallError } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import { classify, DETAIL_LIMIT } from "./classify.ts";
import { REDACTED, redactSecrets, withSentCredentials } from "./redact.ts";

const KEY = "sk-ant-api03-Zx9fQ2LmN8pR4tV6wY1b";
const HEADER = "gw-7c1e5a90d3b24f68";
const AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

describe("redactSecrets", () => {
  it.each([
    ["the API key, as sent", `invalid x-api-key ${KEY}`, [KEY], `invalid x-api-key ${REDACTED}`],
    [
      "a custom header's value",
      `bad gateway token ${HEADER}.`,
      [HEADER],
      `bad gateway token ${REDACTED}.`,
    ],
    ["every occurrence", `${HEADER} and ${HEADER}`, [HEADER], `${REDACTED} and ${REDACTED}`],
    [
      "a secret as JSON escapes it",
      `{"secret":"${AWS_SECRET.replaceAll("/", "\\/")}"}`,
      [AWS_SECRET],
      `{"secret":"${REDACTED}"}`,
    ],
    [
      "a secret as a URL encodes it",
      `GET /x?sig=${encodeURIComponent(AWS_SECRET)}`,
      [AWS_SECRET],
      `GET /x?sig=${REDACTED}`,
    ],
    [
      "a longer secret before one it contains",
      "abcdef-123456 abcdef",
      ["abcdef", "abcdef-123456"],
      `${REDACTED} ${REDACTED}`,
    ],
    [
      "no value too short to be a credential",
      "error 1: k is not a key",
      ["k", "1"],
      "error 1: k is not a key",
    ],
    [
      "a Bearer token nobody listed",
      "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig",
      [],
      `Authorization: Bearer ${REDACTED}`,
    ],
    [
      "a bearer token inside prose",
      "sent bearer abcdefgh12345678 twice",
      [],
      `sent bearer ${REDACTED} twice`,
    ],
    ["an x-api-key header", "x-api-key: not-listed-key-99", [], `x-api-key: ${REDACTED}`],
    ["an api_key field in JSON", '{"api_key":"abc123def456"}', [], `{"api_key":"${REDACTED}"}`],
    [
      "a Basic authorization",
      "authorization=Basic dXNlcjpwYXNz",
      [],
      `authorization=Basic ${REDACTED}`,
    ],
    [
      "an sk- style key",
      "Incorrect API key provided: sk-proj-abcdefghijklmnop.",
      [],
      `Incorrect API key provided: ${REDACTED}.`,
    ],
    [
      "a Google API key",
      "key AIzaSyA1234567890abcdefghijklmnopqrstuv rejected",
      [],
      `key ${REDACTED} rejected`,
    ],
    [
      "an AWS access key id",
      "The security token AKIAIOSFODNN7EXAMPLE is invalid",
      [],
      `The security token ${REDACTED} is invalid`,
    ],
    [
      "a key in a URL's query",
      "POST https://g.test/v1/m:generate?alt=sse&key=abc123",
      [],
      `POST https://g.test/v1/m:generate?alt=sse&key=${REDACTED}`,
    ],
  ])("replaces %s", (_, text, secrets, expected) => {
    expect(redactSecrets(text, secrets)).toBe(expected);
  });

  it.each([
    ["a masked key", "Incorrect API key provided: sk-proj-****abcd."],
    ["an error that only names the header", "invalid x-api-key"],
    ["a short 'Bearer token' phrase", "Missing Bearer token"],
    ["an authentication failure", "authentication_error: invalid x-api-key"],
  ])("leaves %s alone", (_, text) => {
    expect(redactSecrets(text)).toBe(text);
  });

  it("does not redact twice", () => {
    const once = redactSecrets(`x-api-key: ${KEY}`, [KEY]);
    expect(redactSecrets(once, [KEY])).toBe(once);
  });
});

function echoing401(): APICallError {
  const body = {
    type: "error",
    error: {
      type: "authentication_error",
      message: `invalid x-api-key ${KEY} (gateway token ${HEADER})`,
    },
  };
  return new APICallError({
    message: body.error.message,
    url: "https://api.provider.test/v1/messages",
    requestBodyValues: {},
    statusCode: 401,
    responseHeaders: {},
    responseBody: JSON.stringify(body),
    data: body,
  });
}

describe("classify: credentials a provider echoes", () => {
  it.each([
    ["a 401 body", () => echoing401()],
    [
      "an in-band error object",
      () => ({ type: "invalid_request_error", message: `bad header ${HEADER}; key ${KEY}` }),
    ],
    ["an error whose cause echoes them", () => new Error("wrapped", { cause: echoing401() })],
    ["an unknown error's own message", () => new Error(`boom ${KEY} ${HEADER}`)],
  ])("scrubs the credentials sent from the message and detail of %s", (_, make) => {
    const classified = classify(withSentCredentials(make(), [KEY, HEADER]));
    const words = `${classified.message}\n${classified.detail}`;
    expect(words).not.toContain(KEY);
    expect(words).not.toContain(HEADER);
    expect(words).toContain(REDACTED);
  });

  it("finds the credentials on an error deeper in the chain", () => {
    const inner = withSentCredentials(new Error(`echo ${HEADER}`), [HEADER]);
    const classified = classify(new Error("outer", { cause: inner }));
    expect(classified.detail).not.toContain(HEADER);
  });

  it("scrubs before capping, so no cut leaves the start of a secret", () => {
    const message = `${"x".repeat(DETAIL_LIMIT - 10)} ${HEADER}`;
    const classified = classify(withSentCredentials({ message }, [HEADER]));
    expect(classified.detail).not.toContain(HEADER.slice(0, 8));
  });

  it("scrubs credential-shaped values even when no credentials were tied to the error", () => {
    const classified = classify(new Error(`upstream said: Authorization: Bearer ${KEY}`));
    expect(classified.message).not.toContain(KEY);
    expect(classified.detail).not.toContain(KEY);
  });

  it("leaves the original error untouched as the cause", () => {
    const error = echoing401();
    expect(classify(withSentCredentials(error, [KEY])).cause).toBe(error);
    expect(error.responseBody).toContain(KEY);
  });
});
