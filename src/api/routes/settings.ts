/**
 * The deployment's settings (admin only): the system prompt every model is told after Keel's
 * built-in one (DESIGN.md §7), the model that titles new chats and the one that writes
 * compaction summaries, the model new chats preselect (`default_model_id`), and every user's
 * spend limit unless they have their own (`default_limit`, see routes/limits.ts).
 */
import { createRoute } from "@hono/zod-openapi";
import type { DeploymentSettings } from "../../store/contract.ts";
import { changesOf } from "../audit.ts";
import { currentUser } from "../auth.ts";
import type { ApiApp, RouteContext } from "../context.ts";
import { ApiError } from "../errors.ts";
import { SettingsSchema, UpdateSettingsBody } from "../schemas.ts";
import { errors, json, jsonBody, newRouter, SECURED } from "./common.ts";

export function settingsRoutes(ctx: RouteContext): ApiApp {
  const { store, logger } = ctx;
  const app = newRouter();
  const admin = [ctx.requireAdmin];
  const tags = ["settings"];

  /** A title or summary model must be one chats could use: existing and enabled; a 400 on the field. */
  async function checkModel(
    field: "title_model_id" | "summary_model_id" | "default_model_id",
    id: string,
  ): Promise<void> {
    const model = await store.getModel(id);
    if (model?.enabled) return;
    throw new ApiError(400, "Invalid request body.", {
      validations: [
        {
          field,
          detail: model
            ? `The model "${model.display_name}" is disabled.`
            : "No model has this id.",
        },
      ],
    });
  }

  const get = createRoute({
    method: "get",
    path: "/settings",
    tags,
    summary: "The deployment's settings (admin)",
    security: SECURED,
    middleware: admin,
    responses: { 200: json(SettingsSchema, "The settings"), ...errors(401, 403) },
  });
  /** The settings as answered: the deployment's, and the audit log's retention (`audit.ts`). */
  const current = async () => ({
    ...(await store.deploymentSettings.get()),
    audit_retention_days: await store.audit.retentionDays(),
  });
  app.openapi(get, async (c) => c.json(await current(), 200));

  const update = createRoute({
    method: "patch",
    path: "/settings",
    tags,
    summary: "Change the deployment's settings (admin); null clears a setting",
    security: SECURED,
    middleware: admin,
    request: { body: jsonBody(UpdateSettingsBody) },
    responses: {
      200: json(SettingsSchema, "The settings"),
      ...errors(400, 401, 403, 413, 415),
    },
  });
  app.openapi(update, async (c) => {
    const input = c.req.valid("json");
    const patch: Partial<DeploymentSettings> = {};
    if (input.system_prompt !== undefined) {
      // A blank prompt says nothing: stored as none, so no empty section reaches the model.
      patch.system_prompt = input.system_prompt?.trim() ? input.system_prompt : null;
    }
    if (input.title_model_id !== undefined) {
      if (input.title_model_id !== null) await checkModel("title_model_id", input.title_model_id);
      patch.title_model_id = input.title_model_id;
    }
    if (input.summary_model_id !== undefined) {
      if (input.summary_model_id !== null) {
        await checkModel("summary_model_id", input.summary_model_id);
      }
      patch.summary_model_id = input.summary_model_id;
    }
    if (input.default_model_id !== undefined) {
      if (input.default_model_id !== null) {
        await checkModel("default_model_id", input.default_model_id);
      }
      patch.default_model_id = input.default_model_id;
    }
    // Applies at once on every replica: the settings' cache entry is dropped by NOTIFY.
    if (input.default_limit !== undefined) patch.default_limit = input.default_limit;
    if (input.chat_archive_after_days !== undefined) {
      patch.chat_archive_after_days = input.chat_archive_after_days;
    }
    if (input.chat_delete_after_days !== undefined) {
      patch.chat_delete_after_days = input.chat_delete_after_days;
    }
    const settings = await ctx.audit.run(
      c,
      "settings.update",
      async (note) => {
        const before = await current();
        await store.deploymentSettings.update(patch);
        if (input.audit_retention_days !== undefined) {
          await store.audit.setRetentionDays(input.audit_retention_days);
        }
        const after = await current();
        note.changes = changesOf(before, after);
        return after;
      },
      { target: { type: "settings", id: null, name: "deployment" } },
    );
    logger.info("settings changed", { fields: Object.keys(patch), by: currentUser(c).id });
    return c.json(settings, 200);
  });

  return app;
}
