/**
 * Who is in a group: the people chosen, as chips that can be removed, and a search over everyone
 * (name or email) with a checkbox each. A deployment may have hundreds of users, so the list is
 * filtered as one types and scrolls within a bounded height.
 */
import { useId, useState } from "react";
import type { User } from "../../api/types.ts";

export function MemberPicker({
  users,
  value,
  onChange,
}: {
  users: User[];
  value: string[];
  onChange(ids: string[]): void;
}) {
  const [query, setQuery] = useState("");
  const searchId = useId();
  const chosen = new Set(value);
  const needle = query.trim().toLowerCase();
  const shown = users.filter(
    (u) =>
      needle === "" ||
      u.username.toLowerCase().includes(needle) ||
      u.email.toLowerCase().includes(needle),
  );
  const byId = new Map(users.map((u) => [u.id, u]));
  const toggle = (id: string, on: boolean) =>
    onChange(on ? [...value, id] : value.filter((other) => other !== id));

  return (
    <fieldset className="member-picker">
      <legend>
        Members <span className="muted">· {value.length} chosen</span>
      </legend>
      {value.length > 0 ? (
        <ul className="member-chips" aria-label="Chosen members">
          {value.map((id) => {
            const name = byId.get(id)?.username ?? "unknown user";
            return (
              <li key={id} className="member-chip">
                <span>{name}</span>
                <button
                  type="button"
                  className="member-chip-remove"
                  aria-label={`Remove ${name}`}
                  onClick={() => toggle(id, false)}
                >
                  ×
                </button>
              </li>
            );
          })}
        </ul>
      ) : (
        <p className="muted member-none">Nobody yet: pick people below.</p>
      )}
      <label className="sr-only" htmlFor={searchId}>
        Find people
      </label>
      <input
        id={searchId}
        type="search"
        className="member-search"
        placeholder="Find by name or email"
        autoComplete="off"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      {shown.length === 0 ? (
        <p className="muted member-none">Nobody matches “{query.trim()}”.</p>
      ) : (
        <ul className="member-options">
          {shown.map((u) => (
            <li key={u.id}>
              <label className="member-option">
                <input
                  type="checkbox"
                  checked={chosen.has(u.id)}
                  onChange={(e) => toggle(u.id, e.target.checked)}
                />
                <span className="member-name">{u.username}</span>
                <span className="muted member-email">
                  {u.email}
                  {u.active ? "" : " · deactivated"}
                </span>
              </label>
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
