/**
 * Spend limits as the UI reads and sets them: the signed-in user's spend this period (`GET
 * /users/me/spend`), and for admins every limit (`GET /limits`), a user's and a group's
 * (`PUT/DELETE /users/{id}/limit`, `/groups/{id}/limit`). The deployment's default is a field of the settings
 * (`PATCH /settings {default_limit}`).
 */
import { ApiError, request } from "../api/client.ts";
import type { components } from "../api/openapi.gen.ts";
import type { Body } from "../api/request.ts";

export type Spend = components["schemas"]["Spend"];
export type SpendLimit = NonNullable<components["schemas"]["SpendLimit"]>;
export type LimitPeriod = SpendLimit["period"];
export type LimitList = components["schemas"]["LimitList"];
export type UserLimit = components["schemas"]["UserLimit"];

/** The 409's `code` when a user over their limit tries to start a turn. */
export const SPEND_LIMIT_CODE = "spend_limit_reached";

export const limitsApi = {
  mySpend: () => request("GET", "/users/me/spend"),
  list: () => request("GET", "/limits"),
  setUserLimit: (userId: string, body: Body<"PUT", "/users/{id}/limit">) =>
    request("PUT", "/users/{id}/limit", { params: { id: userId }, body }),
  removeUserLimit: (userId: string) =>
    request("DELETE", "/users/{id}/limit", { params: { id: userId } }),
  setGroupLimit: (groupId: string, body: Body<"PUT", "/groups/{id}/limit">) =>
    request("PUT", "/groups/{id}/limit", { params: { id: groupId }, body }),
  removeGroupLimit: (groupId: string) =>
    request("DELETE", "/groups/{id}/limit", { params: { id: groupId } }),
};

/** Whether `error` is the server refusing a turn because the spend limit was reached. */
export function isSpendLimitError(error: unknown): boolean {
  return ApiError.isInstance(error) && error.status === 409 && error.code === SPEND_LIMIT_CODE;
}
