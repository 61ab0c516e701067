/**
 * Providers (admin only). The API key goes in and never comes out: responses say `has_api_key`.
 * A configuration its type cannot work with (an OpenAI-compatible one without a base URL) is a
 * 400 naming the field when it is saved, never a failure of every chat later; names are unique.
 */
import { createRoute } from "@hono/zod-openapi";
import { configProblems } from "../../provider/validate.ts";
import type { NewProvider } from "../../store/contract.ts";
import type { ProviderRecord } from "../../store/types.ts";
import { changesOf, secretOptionsSet, secretsSet } from "../audit.ts";
import { currentUser } from "../auth.ts";
import type { ApiApp, RouteContext } from "../context.ts";
import { ApiError, notFound } from "../errors.ts";
import { REDACTED } from "../log.ts";
import {
  CreateProviderBody,
  IdParams,
  ProviderList,
  ProviderSchema,
  UpdateProviderBody,
} from "../schemas.ts";
import { providerView } from "../views.ts";
import { errors, json, jsonBody, newRouter, noContent, SECURED } from "./common.ts";
import { addProviderChecks } from "./provider-checks.ts";

/**
 * A client that sends back an option it read as "[redacted]" would overwrite the real secret
 * with that placeholder: refuse it.
 */
function refuseRedactedEcho(options: Record<string, unknown> | undefined): void {
  if (options === undefined) return;
  const fields: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (value === REDACTED) fields.push(`options.${key}`);
    if (key === "headers" && value !== null && typeof value === "object") {
      for (const [name, v] of Object.entries(value)) {
        if (v === REDACTED) fields.push(`options.headers.${name}`);
      }
    }
  }
  if (fields.length > 0) {
    throw new ApiError(400, "Invalid request body.", {
      validations: fields.map((field) => ({
        field,
        detail: `"${REDACTED}" is the placeholder shown for a secret; send the real value.`,
      })),
    });
  }
}

/** A configuration that cannot work: 400, one validation per field. */
function refuseUnworkable(
  config: Pick<ProviderRecord, "type" | "base_url" | "options">,
  sent: Record<string, unknown> | undefined,
): void {
  const problems = configProblems(
    { type: config.type, options: config.options, base_url: config.base_url ?? undefined },
    // Only the options the request sets are judged (removing one a type does not read is fine).
    Object.entries(sent ?? {}).flatMap(([key, value]) => (value === null ? [] : [key])),
  );
  if (problems.length === 0) return;
  throw new ApiError(400, "The provider cannot work with these settings: fix the fields named.", {
    validations: problems,
  });
}

/**
 * A patch's options merged into the stored ones (given: replaced, null: removed, left out:
 * kept), with the secret ones read back decrypted so they survive without being sent again.
 */
function mergeOptions(
  stored: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...stored };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else if (value !== undefined) merged[key] = value;
  }
  return merged;
}

/** Drops `undefined` so the store sees only the fields the client sent. */
function definedOnly<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A provider's diff for the audit log: its key and secret options only as "[changed]". */
function providerChanges(
  before: ProviderRecord | null,
  after: ProviderRecord | null,
  sent: { api_key?: unknown; options?: Record<string, unknown> },
) {
  const shown = after ?? before;
  const options = shown ? providerView(shown).options : {};
  return changesOf(before && providerView(before), after && providerView(after), [
    ...secretsSet(sent, ["api_key"]),
    ...secretOptionsSet(sent.options, options, REDACTED),
  ]);
}

export function providerRoutes(ctx: RouteContext): ApiApp {
  const { store, logger } = ctx;
  const app = newRouter();
  const admin = [ctx.requireAdmin];
  const tags = ["providers"];

  const create = createRoute({
    method: "post",
    path: "/providers",
    tags,
    summary: "Configure a provider (admin)",
    security: SECURED,
    middleware: admin,
    request: { body: jsonBody(CreateProviderBody) },
    responses: {
      201: json(ProviderSchema, "The provider (never its key)"),
      ...errors(400, 401, 403, 409, 413, 415),
    },
  });
  app.openapi(create, async (c) => {
    const input = c.req.valid("json");
    refuseRedactedEcho(input.options);
    refuseUnworkable(
      { type: input.type, base_url: input.base_url ?? null, options: input.options ?? {} },
      input.options,
    );
    const provider = await ctx.audit.run(c, "provider.create", async (note) => {
      const provider = await store.createProvider(definedOnly(input) as NewProvider);
      note.target = { type: "provider", id: provider.id, name: provider.name };
      note.changes = providerChanges(null, provider, input);
      return provider;
    });
    logger.info("provider created", {
      provider_id: provider.id,
      type: provider.type,
      by: currentUser(c).id,
    });
    return c.json(providerView(provider), 201);
  });

  const list = createRoute({
    method: "get",
    path: "/providers",
    tags,
    summary: "List providers (admin)",
    security: SECURED,
    middleware: admin,
    responses: { 200: json(ProviderList, "Every provider"), ...errors(401, 403) },
  });
  app.openapi(list, async (c) => {
    const providers = await store.listProviders();
    return c.json({ providers: providers.map(providerView) }, 200);
  });

  const get = createRoute({
    method: "get",
    path: "/providers/{id}",
    tags,
    summary: "One provider (admin)",
    security: SECURED,
    middleware: admin,
    request: { params: IdParams },
    responses: { 200: json(ProviderSchema, "The provider"), ...errors(401, 403, 404) },
  });
  app.openapi(get, async (c) => {
    const provider = await store.getProvider(c.req.valid("param").id);
    if (provider === null) throw notFound("Provider");
    return c.json(providerView(provider), 200);
  });

  const update = createRoute({
    method: "patch",
    path: "/providers/{id}",
    tags,
    summary: "Change a provider (admin); `api_key: null` removes the key, options merge",
    security: SECURED,
    middleware: admin,
    request: { params: IdParams, body: jsonBody(UpdateProviderBody) },
    responses: {
      200: json(ProviderSchema, "The provider"),
      ...errors(400, 401, 403, 404, 409, 413, 415),
    },
  });
  app.openapi(update, async (c) => {
    const { id } = c.req.valid("param");
    const patch = c.req.valid("json");
    refuseRedactedEcho(patch.options);
    const current = await store.getProvider(id);
    if (current === null) throw notFound("Provider");
    const changes = definedOnly(patch) as Partial<NewProvider>;
    if (patch.options !== undefined) {
      // The stored secrets, decrypted, only when the patch touches the options at all.
      const stored = (await store.providerConfig(id))?.options ?? {};
      changes.options = mergeOptions(stored, patch.options);
    }
    refuseUnworkable(
      {
        type: patch.type ?? current.type,
        base_url: patch.base_url !== undefined ? patch.base_url : current.base_url,
        options: changes.options ?? current.options,
      },
      patch.options,
    );
    const target = { type: "provider", id, name: current.name };
    const provider = await ctx.audit.run(
      c,
      "provider.update",
      async (note) => {
        const provider = await store.updateProvider(id, changes);
        if (provider === null) throw notFound("Provider");
        note.changes = providerChanges(current, provider, patch);
        return provider;
      },
      { target },
    );
    logger.info("provider updated", {
      provider_id: id,
      fields: Object.keys(definedOnly(patch)),
      by: currentUser(c).id,
    });
    return c.json(providerView(provider), 200);
  });

  const remove = createRoute({
    method: "delete",
    path: "/providers/{id}",
    tags,
    summary: "Delete a provider (admin)",
    security: SECURED,
    middleware: admin,
    request: { params: IdParams },
    responses: { 204: noContent("Deleted"), ...errors(401, 403, 404, 409) },
  });
  app.openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    const current = await store.getProvider(id);
    const target = { type: "provider", id, name: current?.name ?? null };
    await ctx.audit.run(
      c,
      "provider.delete",
      async (note) => {
        if (current === null || !(await store.deleteProvider(id))) throw notFound("Provider");
        note.changes = providerChanges(current, null, {});
      },
      { target },
    );
    logger.info("provider deleted", { provider_id: id, by: currentUser(c).id });
    return c.body(null, 204);
  });

  addProviderChecks(app, ctx);
  return app;
}
