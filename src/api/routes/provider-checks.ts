/**
 * An admin's checks of a configured provider, made server-side with its stored credentials over
 * the providers' transport: "Test connection" (the smallest real request, its failure classified
 * as a chat's would be, so the words match what users see) and the models it lists. Neither ever
 * returns or logs a credential: the provider's words pass through `classify`, which scrubs them.
 */
import { createRoute } from "@hono/zod-openapi";
import { classify } from "../../chaterror/index.ts";
import type { ProviderConfig } from "../../provider/index.ts";
import { PROVIDER_DISPLAY_NAMES } from "../../provider/index.ts";
import { canListModels, listModels, probeProvider } from "../../provider/probe.ts";
import { currentUser } from "../auth.ts";
import type { ApiApp, RouteContext } from "../context.ts";
import { ApiError, notFound } from "../errors.ts";
import { IdParams, ProviderModelList, ProviderTestResult, TestProviderBody } from "../schemas.ts";
import { errors, json, jsonBody, SECURED } from "./common.ts";

export function addProviderChecks(app: ApiApp, ctx: RouteContext): void {
  const { store, logger, transport } = ctx;
  // A provider that has not answered by then is reported as timed out (`providerCheckTimeoutMs`).
  const deadline = () => AbortSignal.timeout(ctx.options.providerCheckTimeoutMs);
  const admin = [ctx.requireAdmin];
  const tags = ["providers"];

  async function configOf(id: string): Promise<ProviderConfig> {
    const config = await store.providerConfig(id);
    if (config === null) throw notFound("Provider");
    return config;
  }

  /** The model to try: the enabled ones first, then any, oldest first. */
  async function firstModel(providerId: string): Promise<string | undefined> {
    const models = (await store.listModels()).filter((m) => m.provider_id === providerId);
    return (models.find((m) => m.enabled) ?? models[0])?.model;
  }

  const test = createRoute({
    method: "post",
    path: "/providers/{id}/test",
    tags,
    summary: "Test a provider's connection and credentials (admin)",
    description:
      "Sends the smallest real request — a completion of a few tokens from `model` (default: the provider's first model), or, for a provider with no model yet, its model list — and answers whether it worked. A failure is classified as in chats (`kind`, `message`). Gives up after 15 s.",
    security: SECURED,
    middleware: admin,
    request: { params: IdParams, body: jsonBody(TestProviderBody, false) },
    responses: {
      200: json(ProviderTestResult, "The outcome (a failed test is still a 200)"),
      ...errors(400, 401, 403, 404, 413, 415),
    },
  });
  // Audited on its own, after the test: it changes no row and may wait 15 s on the provider.
  app.openapi(test, (c) =>
    ctx.audit.after(c, "provider.test", async (note) => {
      const { id } = c.req.valid("param");
      note.target = { type: "provider", id, name: null };
      const body = c.req.valid("json") ?? {};
      const config = await configOf(id);
      note.target.name = config.name ?? null;
      const model = body.model ?? (await firstModel(id));
      const probe = await probeProvider(config, model, transport, deadline());
      if (probe === null) {
        return c.json(
          {
            ok: false,
            kind: "config" as const,
            message: `${PROVIDER_DISPLAY_NAMES[config.type]} needs a model to test with: add one of its models on the Models page, then test again.`,
            latency_ms: 0,
          },
          200,
        );
      }
      const outcome = probe.ok
        ? { ok: true, latency_ms: probe.latencyMs }
        : (() => {
            const error = classify(probe.error, { provider: config.name });
            return {
              ok: false,
              kind: error.kind,
              message: error.message,
              ...(error.detail === undefined ? {} : { detail: error.detail }),
              latency_ms: probe.latencyMs,
            };
          })();
      logger.info("provider tested", {
        provider_id: id,
        model: model ?? null,
        ok: outcome.ok,
        kind: "kind" in outcome ? outcome.kind : null,
        latency_ms: outcome.latency_ms,
        by: currentUser(c).id,
      });
      return c.json(outcome, 200);
    }),
  );

  const models = createRoute({
    method: "get",
    path: "/providers/{id}/models",
    tags,
    summary: "The models a provider lists (admin)",
    description:
      "Asked of the provider itself (OpenAI, OpenAI-compatible `/models`, Anthropic, Google, OpenRouter). A type with no list, or a provider whose list is not found (404), answers `{ models: [], listable: false }`; a provider that fails otherwise answers 502 with the classified message.",
    security: SECURED,
    middleware: admin,
    request: { params: IdParams },
    responses: {
      200: json(ProviderModelList, "The provider's models, by id"),
      ...errors(401, 403, 404, 502),
    },
  });
  app.openapi(models, async (c) => {
    const config = await configOf(c.req.valid("param").id);
    if (!canListModels(config.type)) return c.json({ models: [], listable: false }, 200);
    try {
      const listed = await listModels(config, transport, deadline());
      return c.json({ models: listed ?? [], listable: true }, 200);
    } catch (error) {
      const classified = classify(error, { provider: config.name });
      // Many OpenAI-compatible servers (and gateways) have no model list: a 404 there is "cannot
      // list", not a failure; a wrong base URL shows in "Test connection" instead.
      if (classified.statusCode === 404) return c.json({ models: [], listable: false }, 200);
      throw new ApiError(502, classified.message, {
        ...(classified.detail === undefined ? {} : { detail: classified.detail }),
      });
    }
  });
}
