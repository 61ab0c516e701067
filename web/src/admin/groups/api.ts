/**
 * The groups' operations (`/groups`, admins only), made through the typed `request` like the
 * rest of the UI's calls; kept beside the page that alone uses them.
 */

import type { components } from "../../api/openapi.gen.ts";
import { type Body, request } from "../../api/request.ts";

export type Group = components["schemas"]["Group"];

export const groupsApi = {
  list: () => request("GET", "/groups"),
  create: (body: Body<"POST", "/groups">) => request("POST", "/groups", { body }),
  update: (groupId: string, body: Body<"PATCH", "/groups/{id}">) =>
    request("PATCH", "/groups/{id}", { params: { id: groupId }, body }),
  remove: (groupId: string) => request("DELETE", "/groups/{id}", { params: { id: groupId } }),
};
