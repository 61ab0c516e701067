/**
 * Who can use a model: everyone, or the members of some groups (admins always can). Part of the
 * model's add and edit forms; the choice travels in the form (`access`, `group_ids`) and
 * `groupIdsFrom` reads it back. Choosing groups but none of them is not "everyone" by accident:
 * the form refuses to submit until one is ticked.
 */
import { useState } from "react";
import type { Model } from "../../api/types.ts";
import { Link } from "../../router.tsx";
import type { Group } from "./api.ts";
import "./groups.css";

export function ModelAccessField({ groups, model }: { groups: Group[]; model?: Model }) {
  const initial = model?.group_ids ?? [];
  const [restricted, setRestricted] = useState(initial.length > 0);
  const [chosen, setChosen] = useState<string[]>(initial);
  const none = restricted && chosen.length === 0;
  const name = model ? `Who can use ${model.display_name}` : "Who can use it";
  return (
    <fieldset className="model-access">
      <legend>Who can use it</legend>
      <label className="checkbox">
        <input
          type="radio"
          name="access"
          value="everyone"
          checked={!restricted}
          onChange={() => setRestricted(false)}
        />
        Everyone
      </label>
      <label className="checkbox">
        <input
          type="radio"
          name="access"
          value="groups"
          checked={restricted}
          disabled={groups.length === 0 && !restricted}
          onChange={() => setRestricted(true)}
        />
        Only these groups (and admins)
      </label>
      {restricted ? (
        <fieldset className="model-access-groups">
          <legend className="sr-only">{name}: groups</legend>
          {groups.map((group, index) => (
            <label key={group.id} className="checkbox">
              <input
                type="checkbox"
                name="group_ids"
                value={group.id}
                checked={chosen.includes(group.id)}
                // One message on the first box while none is ticked: the browser shows it on submit.
                ref={(box) => {
                  if (index === 0) box?.setCustomValidity(none ? "Tick at least one group." : "");
                }}
                onChange={(e) =>
                  setChosen(
                    e.target.checked
                      ? [...chosen, group.id]
                      : chosen.filter((id) => id !== group.id),
                  )
                }
              />
              {group.name}
            </label>
          ))}
        </fieldset>
      ) : null}
      {groups.length === 0 ? (
        <p className="hint">
          To limit a model to some people, first put them in a <Link to="/admin/groups">group</Link>
          .
        </p>
      ) : null}
    </fieldset>
  );
}

/** The form's choice: the groups ticked, or none (everyone). */
export function groupIdsFrom(form: FormData): string[] {
  if (form.get("access") !== "groups") return [];
  return form.getAll("group_ids").map(String);
}

/** The table's word for it: "Everyone", or the groups' names. */
export function accessSummary(model: Model, groups: Group[]): string {
  const ids = model.group_ids ?? [];
  if (ids.length === 0) return "Everyone";
  const names = ids.map((id) => groups.find((g) => g.id === id)?.name ?? "a deleted group");
  return names.join(", ");
}
