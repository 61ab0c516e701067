/**
 * Models: admins configure them; everyone lists the ones they may use (members: enabled ones not
 * restricted to groups they are not in; admins: all). A model that a member may not use is 404
 * to them. Admins see (and set) the groups a model is restricted to, `group_ids`. A model's settings
 * (temperature, max_output_tokens, reasoning) are checked against its provider's type when it is
 * saved: one the provider cannot take is a 400 naming the field, never a failure at chat time.
 */
import { createRoute, type z } from "@hono/zod-openapi";
import { callSettings, type ModelSettings, ModelSettingsError } from "../../provider/index.ts";
import type { NewModel } from "../../store/contract.ts";
import { changesOf } from "../audit.ts";
import { currentUser } from "../auth.ts";
import type { ApiApp, RouteContext } from "../context.ts";
import { ApiError, notFound } from "../errors.ts";
import { CreateModelBody, IdParams, ModelList, ModelSchema, UpdateModelBody } from "../schemas.ts";
import { modelView } from "../views.ts";
import { errors, json, jsonBody, newRouter, noContent, SECURED } from "./common.ts";
import { unknownIds } from "./groups.ts";

export function modelRoutes(ctx: RouteContext): ApiApp {
  const { store, logger } = ctx;
  const app = newRouter();
  const admin = [ctx.requireAdmin];
  const user = [ctx.requireUser];
  const tags = ["models"];

  /** A body's provider_id must name a provider: a 400 on that field, not a 404 of the route. */
  async function checkProvider(providerId: string) {
    const provider = await store.getProvider(providerId);
    if (provider !== null) return provider;
    throw new ApiError(400, "Invalid request body.", {
      validations: [{ field: "provider_id", detail: "No provider has this id." }],
    });
  }

  /** `settings` must be ones the provider can take: a 400 naming the field otherwise. */
  async function checkSettings(providerId: string, model: string, settings: ModelSettings) {
    const provider = await checkProvider(providerId);
    try {
      callSettings(provider.type, model, settings);
    } catch (error) {
      if (!(error instanceof ModelSettingsError)) throw error;
      throw new ApiError(400, `Invalid model settings: ${error.message}`, {
        validations: [{ field: error.field, detail: error.message }],
      });
    }
  }

  const create = createRoute({
    method: "post",
    path: "/models",
    tags,
    summary: "Add a model of a configured provider (admin)",
    security: SECURED,
    middleware: admin,
    request: { body: jsonBody(CreateModelBody) },
    responses: { 201: json(ModelSchema, "The model"), ...errors(400, 401, 403, 409, 413, 415) },
  });
  app.openapi(create, async (c) => {
    const { temperature, max_output_tokens, reasoning, compact_at, group_ids, ...input } =
      c.req.valid("json");
    const settings = withSettings({}, { temperature, max_output_tokens, reasoning, compact_at });
    await checkSettings(input.provider_id, input.model, settings);
    const restricted = group_ids !== undefined && group_ids.length > 0;
    const model = await ctx.audit.run(c, "model.create", async (note) => {
      // A restricted model is created disabled and enabled once restricted: nobody outside its
      // groups can pick it in between.
      let model = await store.createModel({
        ...(input as NewModel),
        settings,
        ...(restricted ? { enabled: false } : {}),
      });
      if (restricted) {
        await store.setModelGroups(model.id, group_ids).catch(async (error: unknown) => {
          await store.deleteModel(model.id);
          unknownIds(error);
        });
        if (input.enabled !== false) {
          model = (await store.updateModel(model.id, { enabled: true })) ?? model;
        }
      }
      note.target = { type: "model", id: model.id, name: model.display_name };
      note.changes = changesOf(null, modelView(model, group_ids ?? []));
      return model;
    });
    logger.info("model created", { model_id: model.id, by: currentUser(c).id });
    return c.json(modelView(model, group_ids ?? []), 201);
  });

  const list = createRoute({
    method: "get",
    path: "/models",
    tags,
    summary: "The models the caller may use (members: enabled ones; admins: all)",
    security: SECURED,
    middleware: user,
    responses: { 200: json(ModelList, "Models"), ...errors(401) },
  });
  app.openapi(list, async (c) => {
    const caller = currentUser(c);
    if (caller.role !== "admin") {
      const models = await store.listModels({ enabledOnly: true, usableBy: caller.id });
      return c.json({ models: models.map((m) => modelView(m)) }, 200);
    }
    const [models, groups] = await Promise.all([store.listModels(), store.modelGroupIds()]);
    return c.json({ models: models.map((m) => modelView(m, groups[m.id] ?? [])) }, 200);
  });

  const get = createRoute({
    method: "get",
    path: "/models/{id}",
    tags,
    summary: "One model (members: enabled ones they may use only)",
    security: SECURED,
    middleware: user,
    request: { params: IdParams },
    responses: { 200: json(ModelSchema, "The model"), ...errors(401, 404) },
  });
  app.openapi(get, async (c) => {
    const model = await store.getModel(c.req.valid("param").id);
    if (model === null) throw notFound("Model");
    const caller = currentUser(c);
    if (caller.role === "admin") return c.json(modelView(model, await groupsOf(model.id)), 200);
    if (!model.enabled || !(await store.mayUseModel(caller.id, model.id))) {
      throw notFound("Model");
    }
    return c.json(modelView(model), 200);
  });

  async function groupsOf(modelId: string): Promise<string[]> {
    return (await store.modelGroupIds())[modelId] ?? [];
  }

  const update = createRoute({
    method: "patch",
    path: "/models/{id}",
    tags,
    summary: "Change a model (admin)",
    security: SECURED,
    middleware: admin,
    request: { params: IdParams, body: jsonBody(UpdateModelBody) },
    responses: { 200: json(ModelSchema, "The model"), ...errors(400, 401, 403, 404, 413, 415) },
  });
  app.openapi(update, async (c) => {
    const { id } = c.req.valid("param");
    const { temperature, max_output_tokens, reasoning, compact_at, group_ids, ...patch } =
      c.req.valid("json");
    const current = await store.getModel(id);
    if (current === null) throw notFound("Model");
    const settings = withSettings(current.settings, {
      temperature,
      max_output_tokens,
      reasoning,
      compact_at,
    });
    await checkSettings(
      patch.provider_id ?? current.provider_id,
      patch.model ?? current.model,
      settings,
    );
    const before = modelView(current, await groupsOf(id));
    const target = { type: "model", id, name: current.display_name };
    const model = await ctx.audit.run(
      c,
      "model.update",
      async (note) => {
        // The groups first: a model enabled by this request is restricted before anyone can pick it.
        if (group_ids !== undefined) await store.setModelGroups(id, group_ids).catch(unknownIds);
        const model = await store.updateModel(id, { ...(patch as Partial<NewModel>), settings });
        if (model === null) throw notFound("Model");
        note.changes = changesOf(before, modelView(model, await groupsOf(id)));
        return model;
      },
      { target },
    );
    logger.info("model updated", { model_id: id, by: currentUser(c).id });
    return c.json(modelView(model, await groupsOf(id)), 200);
  });

  const remove = createRoute({
    method: "delete",
    path: "/models/{id}",
    tags,
    summary: "Delete a model (admin)",
    security: SECURED,
    middleware: admin,
    request: { params: IdParams },
    responses: { 204: noContent("Deleted"), ...errors(401, 403, 404, 409) },
  });
  app.openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    const current = await store.getModel(id);
    const target = { type: "model", id, name: current?.display_name ?? null };
    await ctx.audit.run(
      c,
      "model.delete",
      async (note) => {
        if (current === null || !(await store.deleteModel(id))) throw notFound("Model");
        note.changes = changesOf(modelView(current), null);
      },
      { target },
    );
    logger.info("model deleted", { model_id: id, by: currentUser(c).id });
    return c.body(null, 204);
  });

  return app;
}

type SettingsBody = Pick<z.infer<typeof UpdateModelBody>, keyof ModelSettings>;

/** `current` with the body's settings over it: null clears one, absent keeps it. */
function withSettings(current: ModelSettings, body: SettingsBody): ModelSettings {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(body)) {
    if (value === null) delete next[key];
    else if (value !== undefined) next[key] = value;
  }
  return next as ModelSettings;
}
