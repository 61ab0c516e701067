/**
 * A user's spend limit on the Users page: the limit in force — their own, their group's or
 * everyone's default — and "Change" to set their own or drop it (`LimitCell`).
 */
import type { User } from "../api/types.ts";
import { type LimitList, limitsApi } from "../limits/api.ts";
import { limitText } from "../limits/format.ts";
import { LimitCell } from "../limits/LimitCell.tsx";

export function UserLimitCell({
  user,
  limits,
  onChanged,
}: {
  user: User;
  /** `GET /limits`. */
  limits: LimitList;
  onChanged(): void;
}) {
  const own = limits.users.find((l) => l.user_id === user.id);
  const effective = limits.effective.find((l) => l.user_id === user.id);
  // Without their own, what applies is their group's or the default: the choice says which.
  const fallback = effective && effective.source !== "user" ? effective : undefined;
  const none = fallback
    ? `${fallback.source === "group" ? "Their group's" : "Everyone's default"} (${limitText(fallback)})`
    : own
      ? "None of their own (their group's or the default)"
      : "No limit (everyone's default)";
  return (
    <LimitCell
      subject={user.username}
      own={own}
      inForce={effective ?? null}
      {...(effective && effective.source !== "user" ? { source: effective.source } : {})}
      labels={{
        label: "They may spend",
        none,
        hint: "Their own limit replaces their groups' and everyone's default. It applies at once, also to a turn that is running.",
      }}
      save={(limit) => limitsApi.setUserLimit(user.id, limit)}
      remove={() => limitsApi.removeUserLimit(user.id)}
      onChanged={onChanged}
    />
  );
}
