/**
 * A group's spend limit on the Groups page: its members' limit unless they have their own (a
 * member of several limited groups gets the most generous). "Change" sets or removes it.
 */
import type { LimitList } from "../limits/api.ts";
import { limitsApi } from "../limits/api.ts";
import { LimitCell } from "../limits/LimitCell.tsx";

export function GroupLimitCell({
  group,
  limits,
  onChanged,
}: {
  group: { id: string; name: string };
  /** `GET /limits`. */
  limits: LimitList;
  onChanged(): void;
}) {
  const own = limits.groups.find((l) => l.group_id === group.id);
  return (
    <LimitCell
      subject={group.name}
      own={own}
      inForce={own ?? null}
      labels={{
        label: "Its members may spend",
        none: "No limit for this group",
        hint: "Applies to the group's members over everyone's default, unless they have their own; a member of several limited groups gets the most generous.",
      }}
      save={(limit) => limitsApi.setGroupLimit(group.id, limit)}
      remove={() => limitsApi.removeGroupLimit(group.id)}
      onChanged={onChanged}
    />
  );
}
