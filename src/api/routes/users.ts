/**
 * Setup, users, sign-in and tokens: `/setup`, `/users/first`, `/users/login`, `/users/logout`,
 * `/users[/{id}]`, `/users/me[/tokens]`.
 */
import { createRoute } from "@hono/zod-openapi";
import {
  ConflictError,
  LastAdminError,
  OwnerOnlyError,
  PasswordHashingBusyError,
} from "../../store/contract.ts";
import { changesOf } from "../audit.ts";
import { clearSessionCookie, currentUser, presentedToken, setSessionCookie } from "../auth.ts";
import type { ApiApp, RouteContext } from "../context.ts";
import { ApiError, hashingBusy, notFound } from "../errors.ts";
import {
  CreateTokenBody,
  CreateUserBody,
  FirstUserBody,
  FirstUserResponse,
  IdParams,
  LoginBody,
  LoginResponse,
  MeResponse,
  SetupStatus,
  TokenResponse,
  UpdateMeBody,
  UpdateUserBody,
  UserList,
  UserResponse,
} from "../schemas.ts";
import { userView } from "../views.ts";
import { errors, json, jsonBody, newRouter, noContent, SECURED } from "./common.ts";

/** The 409 of a change that would leave the server without an active admin. */
export const LAST_ADMIN_MESSAGE =
  "This would leave no active administrator. Make another user an admin first.";
/** The 403 of an admin demoting or deactivating the owner. */
export const OWNER_ONLY_MESSAGE =
  "Only the owner (the first user) can change the owner's role or deactivate the owner.";
/** The 403 of a sign-in with the right password to a deactivated account. */
export const DEACTIVATED_MESSAGE = "This account is deactivated. Ask an administrator.";

export function userRoutes(ctx: RouteContext): ApiApp {
  const { store, options, limiter, logger } = ctx;
  const app = newRouter();

  const setup = createRoute({
    method: "get",
    path: "/setup",
    tags: ["users"],
    summary: "Whether the server still needs its first user (no authentication)",
    responses: { 200: json(SetupStatus, "The setup state") },
  });
  app.openapi(setup, async (c) =>
    c.json({ needs_first_user: (await store.countUsers()) === 0 }, 200),
  );

  const firstUser = createRoute({
    method: "post",
    path: "/users/first",
    tags: ["users"],
    summary: "Create the first user (the owner, an admin); only while there are no users",
    request: { body: jsonBody(FirstUserBody) },
    responses: {
      201: json(FirstUserResponse, "The owner and a session token (also set as a cookie)"),
      ...errors(400, 409, 413, 415, 503),
    },
  });
  app.openapi(firstUser, async (c) => {
    const input = c.req.valid("json");
    const exists = new ApiError(409, "The first user already exists; sign in instead.");
    if ((await store.countUsers()) > 0) throw exists;
    const actor = { type: "user" as const, id: null, name: input.username };
    const { user, token } = await ctx.audit.run(
      c,
      "user.create",
      async (note) => {
        const user = await store.createFirstUser(input).catch((err: unknown) => {
          if (err instanceof ConflictError) throw exists;
          throw err;
        });
        note.target = { type: "user", id: user.id, name: user.username };
        note.actor = { type: "user", id: user.id, name: user.username };
        note.changes = changesOf(null, userView(user), ["password"]);
        const ttlMs = options.sessionTtlMs;
        return { user, token: await store.createToken(user.id, "session", { ttlMs }) };
      },
      { actor },
    );
    setSessionCookie(c, token, { secure: options.secureCookies, ttlMs: options.sessionTtlMs });
    logger.info("first user created", { user_id: user.id });
    return c.json({ user: userView(user), session_token: token }, 201);
  });

  const login = createRoute({
    method: "post",
    path: "/users/login",
    tags: ["users"],
    summary:
      "Sign in; failed attempts are rate-limited per email and client address, and per address",
    description:
      "A wrong email or password is a 401 that does not say which. The right password to a " +
      "deactivated account is a 403 saying so (only someone who knows the password learns it). " +
      "Too many failures for the email from this address, or from this address at all, are a 429; " +
      "a server busy hashing other passwords answers 503 at once. Both carry Retry-After.",
    request: { body: jsonBody(LoginBody) },
    responses: {
      200: json(LoginResponse, "A session token (also set as an HTTP-only cookie)"),
      ...errors(400, 401, 403, 413, 415, 429, 503),
    },
  });
  app.openapi(login, async (c) => {
    const { email, password } = c.req.valid("json");
    // A flood is refused here, before it costs a query.
    if (store.passwordHashingBusy()) throw hashingBusy(new PasswordHashingBusyError());
    const ip = options.clientIp(c);
    const waitMs = await limiter.blockedFor(email, ip);
    if (waitMs > 0) {
      throw new ApiError(429, "Too many failed sign-in attempts; try again later.", {
        headers: { "retry-after": String(Math.ceil(waitMs / 1000)) },
      });
    }
    const user = await store.verifyPassword(email, password);
    // A failed sign-in is recorded on its own (never the password): the attempted name only.
    const failed = (status: 401 | 403, message: string) =>
      ctx.audit.record(c, {
        action: "user.login_failed",
        outcome: "failure",
        actor: { type: "user", id: null, name: email },
        error: `${status} ${message}`,
      });
    if (user === null) {
      await limiter.fail(email, ip);
      logger.warn("sign-in failed", { email, ip });
      await failed(401, "Invalid email or password.");
      throw new ApiError(401, "Invalid email or password.");
    }
    if (!user.active) {
      logger.warn("sign-in refused: account deactivated", { user_id: user.id, ip });
      await failed(403, DEACTIVATED_MESSAGE);
      throw new ApiError(403, DEACTIVATED_MESSAGE);
    }
    await limiter.succeed(email, ip);
    const token = await ctx.audit.run(
      c,
      "user.login",
      () => store.createToken(user.id, "session", { ttlMs: options.sessionTtlMs }),
      {
        actor: { type: "user", id: user.id, name: user.username },
        target: { type: "user", id: user.id, name: user.username },
      },
    );
    setSessionCookie(c, token, { secure: options.secureCookies, ttlMs: options.sessionTtlMs });
    return c.json({ session_token: token }, 200);
  });

  const logout = createRoute({
    method: "post",
    path: "/users/logout",
    tags: ["users"],
    summary: "Sign out: revoke the token this request presents and clear the session cookie",
    security: SECURED,
    middleware: [ctx.requireUser],
    responses: { 204: noContent("Signed out; the token no longer authenticates"), ...errors(401) },
  });
  app.openapi(logout, async (c) => {
    const token = presentedToken(c);
    const self = { type: "user", id: currentUser(c).id, name: currentUser(c).username };
    await ctx.audit.run(c, "user.logout", async () => token && store.revokeToken(token), {
      target: self,
    });
    clearSessionCookie(c, { secure: options.secureCookies });
    logger.info("signed out", { user_id: currentUser(c).id });
    return c.body(null, 204);
  });

  const listUsers = createRoute({
    method: "get",
    path: "/users",
    tags: ["users"],
    summary: "Every user, deactivated ones included, oldest first (admin)",
    security: SECURED,
    middleware: [ctx.requireAdmin],
    responses: { 200: json(UserList, "The users"), ...errors(401, 403) },
  });
  app.openapi(listUsers, async (c) =>
    c.json({ users: (await store.listUsers()).map(userView) }, 200),
  );

  /**
   * What a new chat of the user's preselects: their last model, else the deployment's default —
   * each only if the user may use it (null otherwise: a client then picks from `GET /models`).
   */
  async function newChatModels(userId: string) {
    const [last, settings] = await Promise.all([
      store.lastModelId(userId),
      store.deploymentSettings.get(),
    ]);
    const usable = async (id: string | null) =>
      id !== null && (await store.mayUseModel(userId, id)) ? id : null;
    return {
      last_model_id: await usable(last),
      default_model_id: await usable(settings.default_model_id),
    };
  }

  // Before `PATCH /users/{id}` (admins only), which would otherwise take `/users/me`.
  const updateMe = createRoute({
    method: "patch",
    path: "/users/me",
    tags: ["users"],
    summary: "Set the caller's own instructions and compaction threshold",
    security: SECURED,
    middleware: [ctx.requireUser],
    request: { body: jsonBody(UpdateMeBody) },
    responses: { 200: json(MeResponse, "The caller"), ...errors(400, 401, 413, 415) },
  });
  app.openapi(updateMe, async (c) => {
    const user = currentUser(c);
    const { instructions, compact_at } = c.req.valid("json");
    const target = { type: "user", id: user.id, name: user.username };
    const stored = await ctx.audit.run(
      c,
      "preferences.update",
      async (note) => {
        const before = await store.userPreferences.get(user.id);
        const after = await store.userPreferences.update(user.id, { instructions, compact_at });
        if (after === undefined) throw notFound("User");
        note.changes = changesOf(before, after);
        return after;
      },
      { target },
    );
    const models = await newChatModels(user.id);
    logger.info("user preferences set", {
      user_id: user.id,
      instructions_chars: stored.instructions?.length ?? 0,
      compact_at: stored.compact_at,
    });
    return c.json({ user: { ...userView(user), ...stored, ...models } }, 200);
  });

  const updateUser = createRoute({
    method: "patch",
    path: "/users/{id}",
    tags: ["users"],
    summary: "Change a user's role or deactivate/reactivate them (admin)",
    description:
      "Deactivating revokes every session and API token of the user; reactivating does not " +
      "restore them. A change that would leave no active admin is a 409. Only the owner (the " +
      "first user) may demote or deactivate the owner: 403 for anyone else.",
    security: SECURED,
    middleware: [ctx.requireAdmin],
    request: { params: IdParams, body: jsonBody(UpdateUserBody) },
    responses: {
      200: json(UserResponse, "The user"),
      ...errors(400, 401, 403, 404, 409, 413, 415),
    },
  });
  app.openapi(updateUser, async (c) => {
    const { id } = c.req.valid("param");
    const patch = c.req.valid("json");
    const by = currentUser(c).id;
    const before = await store.getUser(id);
    const target = { type: "user", id, name: before?.username ?? null };
    const user = await ctx.audit.run(
      c,
      "user.update",
      async (note) => {
        const user = await store.updateUser(id, patch, by).catch((err: unknown) => {
          if (err instanceof LastAdminError) throw new ApiError(409, LAST_ADMIN_MESSAGE);
          if (err instanceof OwnerOnlyError) throw new ApiError(403, OWNER_ONLY_MESSAGE);
          throw err;
        });
        if (user === null || before === null) throw notFound("User");
        note.changes = changesOf(userView(before), userView(user));
        return user;
      },
      { target },
    );
    if (patch.role !== undefined) {
      logger.info("user role set", { user_id: id, by, role: patch.role });
    }
    if (patch.active !== undefined) {
      logger.info(patch.active ? "user activated" : "user deactivated", { user_id: id, by });
    }
    return c.json({ user: userView(user) }, 200);
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
      ...errors(400, 401, 403, 409, 413, 415, 503),
    },
  });
  app.openapi(createUser, async (c) => {
    const input = c.req.valid("json");
    try {
      const user = await ctx.audit.run(c, "user.create", async (note) => {
        const user = await store.createUser({ ...input, role: input.role ?? "member" });
        note.target = { type: "user", id: user.id, name: user.username };
        note.changes = changesOf(null, userView(user), ["password"]);
        return user;
      });
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
    responses: { 200: json(MeResponse, "The caller, with their instructions"), ...errors(401) },
  });
  app.openapi(me, async (c) => {
    const user = currentUser(c);
    const preferences = await store.userPreferences.get(user.id);
    const models = await newChatModels(user.id);
    return c.json({ user: { ...userView(user), ...preferences, ...models } }, 200);
  });

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
    const token = await ctx.audit.run(
      c,
      "token.create",
      () => store.createToken(user.id, "api", name === undefined ? {} : { name }),
      // The token itself is never recorded; its name and owner are.
      { target: { type: "token", id: null, name: name ?? null } },
    );
    logger.info("api token created", { user_id: user.id });
    return c.json({ token }, 201);
  });

  return app;
}
