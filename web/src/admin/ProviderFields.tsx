/**
 * The fields of a provider, for adding one and for editing it: name, base URL, key and the
 * options its type reads. Secrets are write-only: when editing, an empty key or secret field
 * keeps what is stored (the server never sends it back). What each type needs is said here and
 * checked again by the server, whose refusal names the field.
 */
import type { ReactNode } from "react";
import type {
  CreateProviderRequest,
  Provider,
  ProviderType,
  UpdateProviderRequest,
} from "../api/types.ts";
import { Field } from "../ui/Field.tsx";
import { optionalText } from "../ui/useAction.ts";

/** Every provider type the server accepts (a new server type is a type error here). */
export const PROVIDER_LABELS: Record<ProviderType, string> = {
  openai: "OpenAI",
  anthropic: "Anthropic",
  google: "Google",
  bedrock: "Amazon Bedrock",
  azure: "Azure OpenAI",
  openrouter: "OpenRouter",
  "openai-compatible": "OpenAI-compatible endpoint",
};
export const PROVIDER_TYPES = Object.keys(PROVIDER_LABELS) as ProviderType[];

type Options = NonNullable<UpdateProviderRequest["options"]>;
type OptionName = keyof Options;

/** The options each type reads, as form fields; `secret` ones are never shown back. */
const OPTION_FIELDS: Record<
  ProviderType,
  ReadonlyArray<{
    name: Exclude<OptionName, "headers" | "api">;
    label: string;
    secret?: boolean;
    placeholder?: string;
  }>
> = {
  openai: [],
  anthropic: [],
  google: [],
  openrouter: [],
  "openai-compatible": [],
  azure: [
    {
      name: "resource_name",
      label: "Resource name",
      placeholder: "<name> of <name>.openai.azure.com",
    },
    { name: "api_version", label: "API version", placeholder: "the SDK's default" },
  ],
  bedrock: [
    { name: "region", label: "Region", placeholder: "us-east-1" },
    { name: "access_key_id", label: "Access key ID", placeholder: "the server's AWS credentials" },
    { name: "secret_access_key", label: "Secret access key", secret: true },
    { name: "session_token", label: "Session token", secret: true },
  ],
};

/** Types whose OpenAI API flavour can be chosen (Responses by default). */
const HAS_API_CHOICE: readonly ProviderType[] = ["openai", "azure"];

function baseUrlHint(type: ProviderType): string {
  if (type === "openai-compatible")
    return "Required: the endpoint's base URL, e.g. http://localhost:11434/v1.";
  if (type === "azure") return "Or give the resource name below.";
  return "Leave empty for the provider's own; set it for a proxy or gateway.";
}

const stored = (provider: Provider | undefined, name: string): string => {
  const value = provider?.options[name];
  return typeof value === "string" && value !== "[redacted]" ? value : "";
};
const isSet = (provider: Provider | undefined, name: string) =>
  provider?.options[name] !== undefined;

/** Name, base URL, key and the type's options. `provider`: editing it (its values shown). */
export function ProviderFields({
  type,
  provider,
  children,
}: {
  type: ProviderType;
  provider?: Provider;
  /** Fields to lead the first row with (the add form's type). */
  children?: ReactNode;
}) {
  const editing = provider !== undefined;
  const keyHint = editing
    ? provider.has_api_key
      ? "A key is set. Leave empty to keep it."
      : "No key is set."
    : "Stored encrypted. Nobody can read it back.";
  return (
    <>
      <div className="form-row">
        {children}
        <Field label="Name">
          <input
            name="name"
            required
            maxLength={100}
            placeholder="e.g. Anthropic (team key)"
            defaultValue={provider?.name ?? ""}
          />
        </Field>
        <Field label="Base URL" hint={baseUrlHint(type)}>
          <input
            name="base_url"
            type="url"
            required={type === "openai-compatible"}
            placeholder={type === "openai-compatible" ? "https://…/v1" : "The provider's own"}
            defaultValue={provider?.base_url ?? ""}
          />
        </Field>
        <Field label={editing ? "New API key" : "API key"} hint={keyHint}>
          <input name="api_key" type="password" autoComplete="off" />
        </Field>
      </div>
      {HAS_API_CHOICE.includes(type) || OPTION_FIELDS[type].length > 0 ? (
        <div className="form-row provider-options">
          {HAS_API_CHOICE.includes(type) ? (
            <Field label="API" hint="Chat Completions for gateways that lack Responses.">
              <select name="api" defaultValue={stored(provider, "api") || "responses"}>
                <option value="responses">Responses</option>
                <option value="chat">Chat Completions</option>
              </select>
            </Field>
          ) : null}
          {OPTION_FIELDS[type].map((option) => (
            <Field
              key={option.name}
              label={option.label}
              hint={
                option.secret && isSet(provider, option.name)
                  ? "Set. Leave empty to keep it."
                  : undefined
              }
            >
              <input
                name={option.name}
                type={option.secret ? "password" : "text"}
                autoComplete="off"
                placeholder={option.placeholder}
                defaultValue={option.secret ? "" : stored(provider, option.name)}
              />
            </Field>
          ))}
        </div>
      ) : null}
    </>
  );
}

/** The options of a new provider of `type`, from the form (empty fields left out). */
export function newOptions(type: ProviderType, form: FormData): CreateProviderRequest["options"] {
  const options: Record<string, string> = {};
  if (HAS_API_CHOICE.includes(type)) {
    const api = optionalText(form, "api");
    if (api !== undefined && api !== "responses") options.api = api;
  }
  for (const { name } of OPTION_FIELDS[type]) {
    const value = optionalText(form, name);
    if (value !== undefined) options[name] = value;
  }
  return Object.keys(options).length > 0
    ? (options as CreateProviderRequest["options"])
    : undefined;
}

/**
 * The change to an existing provider, from the edit form: options merge on the server, so an
 * emptied plain option is removed (null) and an empty secret field is left out (kept).
 */
export function providerPatch(provider: Provider, form: FormData): UpdateProviderRequest {
  const patch: UpdateProviderRequest = {
    name: String(form.get("name") ?? "").trim(),
    base_url: optionalText(form, "base_url") ?? null,
  };
  const key = optionalText(form, "api_key");
  if (key !== undefined) patch.api_key = key;
  const options: Record<string, string | null> = {};
  if (HAS_API_CHOICE.includes(provider.type)) options.api = optionalText(form, "api") ?? null;
  for (const { name, secret } of OPTION_FIELDS[provider.type]) {
    const value = optionalText(form, name);
    if (value !== undefined) options[name] = value;
    else if (!secret && isSet(provider, name)) options[name] = null;
  }
  if (Object.keys(options).length > 0) patch.options = options as Options;
  return patch;
}
