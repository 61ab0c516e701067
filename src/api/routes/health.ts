/** `/healthz` (the process answers) and `/readyz` (it is ready to serve), outside `/api/v1`. */
import { createRoute } from "@hono/zod-openapi";
import type { ApiApp, RouteContext } from "../context.ts";
import { HealthSchema } from "../schemas.ts";
import { json, newRouter } from "./common.ts";

export function healthRoutes(ctx: RouteContext): ApiApp {
  const app = newRouter();
  const healthz = createRoute({
    method: "get",
    path: "/healthz",
    tags: ["health"],
    summary: "Liveness",
    responses: { 200: json(HealthSchema, "Alive") },
  });
  app.openapi(healthz, (c) => c.json({ status: "ok" }, 200));

  const readyz = createRoute({
    method: "get",
    path: "/readyz",
    tags: ["health"],
    summary: "Readiness",
    responses: {
      200: json(HealthSchema, "Ready"),
      503: json(HealthSchema, "Not ready (starting or shutting down)"),
    },
  });
  app.openapi(readyz, (c) =>
    ctx.options.ready() ? c.json({ status: "ready" }, 200) : c.json({ status: "unavailable" }, 503),
  );
  return app;
}
