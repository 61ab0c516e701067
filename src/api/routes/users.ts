/** Users, sign-in and tokens: `/users/first`, `/users/login`, `/users`, `/users/me[/tokens]`. */
import { createRoute } from "@hono/zod-openapi";
import { ConflictError } from "../../store/contract.ts";
import { currentUser, setSessionCookie } from "../auth.ts";
import type { ApiApp, RouteContext } from "../context.ts";
import { ApiError } from "../errors.ts";
import {
  CreateTokenBody,
  CreateUserBody,
  FirstUserBody,
  FirstUserResponse,
  LoginBody,
  LoginResponse,
  TokenResponse,
  UserResponse,
} from "../schemas.ts";
import { userView } from "../views.ts";
import { errors, json, jsonBody, newRouter, SECURED } from "./common.ts";

export function userRoutes(ctx: RouteContext): ApiApp {
  const { store, options, limiter, logger } = ctx;
  const app = newRouter();

  const firstUser = createRoute({
    method: "post",
    path: "/users/first",
    tags: ["users"],
    summary: "Create the first user (the owner, an admin); only while there are no users",
    request: { body: jsonBody(FirstUserBody) },
    responses: {
      201: json(FirstUserResponse, "The owner and a session token (also set as a cookie)"),
      ...errors(400, 409, 413, 415),
    },
  });
  app.openapi(firstUser, async (c) => {
    const input = c.req.valid("json");
    const exists = new ApiError(409, "The first user already exists; sign in instead.");
    if ((await store.countUsers()) > 0) throw exists;
    let user: Awaited<ReturnType<typeof store.createFirstUser>>;
    try {
      user = await store.createFirstUser(input);
    } catch (err) {
      if (err instanceof ConflictError) throw exists;
      throw err;
    }
    const token = await store.createToken(user.id, "session", { ttlMs: options.sessionTtlMs });
    setSessionCookie(c, token, { secure: options.secureCookies, ttlMs: options.sessionTtlMs });
    logger.info("first user created", { user_id: user.id });
    return c.json({ user: userView(user), session_token: token }, 201);
  });

  const login = createRoute({
    method: "post",
    path: "/users/login",
    tags: ["users"],
    summary: "Sign in; failed attempts are rate-limited per email and client address",
    request: { body: jsonBody(LoginBody) },
    responses: {
      200: json(LoginResponse, "A session token (also set as an HTTP-only cookie)"),
      ...errors(400, 401, 413, 415, 429),
    },
  });
  app.openapi(login, async (c) => {
    const { email, password } = c.req.valid("json");
    const ip = options.clientIp(c);
    const key = `${email.trim().toLowerCase()}\n${ip}`;
    const waitMs = limiter.blockedFor(key);
    if (waitMs > 0) {
      throw new ApiError(429, "Too many failed sign-in attempts; try again later.", {
        headers: { "retry-after": String(Math.ceil(waitMs / 1000)) },
      });
    }
    const user = await store.verifyPassword(email, password);
    if (user === null) {
      limiter.fail(key);
      logger.warn("sign-in failed", { email, ip });
      throw new ApiError(401, "Invalid email or password.");
    }
    limiter.succeed(key);
    const token = await store.createToken(user.id, "session", { ttlMs: options.sessionTtlMs });
    setSessionCookie(c, token, { secure: options.secureCookies, ttlMs: options.sessionTtlMs });
    return c.json({ session_token: token }, 200);
  });

  const createUser = createRoute({
    method: "post",
    path: "/users",
    tags: ["users"],
    summary: "Create a user (admin)",
    security: SECURED,
    middleware: [ctx.requireAdmin],
    request: { body: jsonBody(CreateUserBody) },
    responses: {
      201: json(UserResponse, "The new user"),
      ...errors(400, 401, 403, 409, 413, 415),
    },
  });
  app.openapi(createUser, async (c) => {
    const input = c.req.valid("json");
    try {
      const user = await store.createUser({ ...input, role: input.role ?? "member" });
      logger.info("user created", { user_id: user.id, by: currentUser(c).id });
      return c.json({ user: userView(user) }, 201);
    } catch (err) {
      if (err instanceof ConflictError) {
        throw new ApiError(409, "A user with this email or username already exists.");
      }
      throw err;
    }
  });

  const me = createRoute({
    method: "get",
    path: "/users/me",
    tags: ["users"],
    summary: "The authenticated user",
    security: SECURED,
    middleware: [ctx.requireUser],
    responses: { 200: json(UserResponse, "The caller"), ...errors(401) },
  });
  app.openapi(me, (c) => c.json({ user: userView(currentUser(c)) }, 200));

  const createToken = createRoute({
    method: "post",
    path: "/users/me/tokens",
    tags: ["users"],
    summary: "Mint an API token for the caller (shown once)",
    security: SECURED,
    middleware: [ctx.requireUser],
    request: { body: jsonBody(CreateTokenBody, false) },
    responses: { 201: json(TokenResponse, "The token"), ...errors(400, 401, 413, 415) },
  });
  app.openapi(createToken, async (c) => {
    const { name } = c.req.valid("json");
    const user = currentUser(c);
    const token = await store.createToken(user.id, "api", name === undefined ? {} : { name });
    logger.info("api token created", { user_id: user.id });
    return c.json({ token }, 201);
  });

  return app;
}
