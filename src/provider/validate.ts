/**
 * What each provider type needs before it can serve a chat, checked when an admin saves it: a
 * configuration `createLanguageModel` would refuse at chat time (or the SDK would send nowhere)
 * is named here, field by field, so the save is refused instead of every chat failing later.
 *
 * The API key is not required of any type: every SDK falls back to its environment variable
 * (`OPENAI_API_KEY`, `AWS_*`, …) on the server, and some gateways authenticate by a header. A
 * missing key shows up in "Test connection" instead, classified as `auth`.
 */
import { PROVIDER_DISPLAY_NAMES } from "./models.ts";
import type { ProviderConfig, ProviderType } from "./types.ts";

export interface ConfigProblem {
  /** The request field, as the API names it: `base_url`, `options.region`. */
  field: string;
  detail: string;
}

/** The options each type reads (`headers` apply to every type). */
const OPTIONS_READ: Record<ProviderType, readonly string[]> = {
  openai: ["api"],
  azure: ["api", "resource_name", "api_version"],
  anthropic: [],
  google: [],
  bedrock: ["region", "access_key_id", "secret_access_key", "session_token"],
  openrouter: [],
  "openai-compatible": [],
};

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "";
}

/**
 * The problems of one complete configuration (after a patch is applied), empty when it can work.
 * `sentOptions`: the option names the request itself carried — only those are refused as not
 * read by the type, so a provider saved before this check can still be renamed.
 */
export function configProblems(
  config: ProviderConfig,
  sentOptions: readonly string[] = [],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const options = config.options ?? {};
  const label = PROVIDER_DISPLAY_NAMES[config.type];
  switch (config.type) {
    case "openai-compatible":
      if (!present(config.base_url)) {
        problems.push({
          field: "base_url",
          detail:
            "An OpenAI-compatible provider needs the endpoint's base URL, e.g. http://localhost:11434/v1.",
        });
      }
      break;
    case "azure":
      if (!present(config.base_url) && !present(options.resource_name)) {
        problems.push({
          field: "options.resource_name",
          detail:
            "Azure OpenAI needs the resource name (the <name> of https://<name>.openai.azure.com) or a base URL.",
        });
      }
      break;
    case "bedrock": {
      if (!present(options.region)) {
        problems.push({
          field: "options.region",
          detail: "Amazon Bedrock needs the AWS region of the models, e.g. us-east-1.",
        });
      }
      // One half of an AWS key pair is always a mistake: the SDK would sign with neither.
      const id = present(options.access_key_id);
      const secret = present(options.secret_access_key);
      if (id !== secret) {
        problems.push({
          field: id ? "options.secret_access_key" : "options.access_key_id",
          detail:
            "Give both the access key ID and the secret access key, or neither (the server's AWS credentials are used then).",
        });
      }
      break;
    }
    default:
      break;
  }
  for (const name of sentOptions) {
    if (name === "headers" || OPTIONS_READ[config.type].includes(name)) continue;
    problems.push({
      field: `options.${name}`,
      detail: `${label} providers do not use this option; remove it.`,
    });
  }
  return problems;
}
