import { useState } from "preact/hooks";

import { ErrorText } from "../common/Dialog";
import { plain } from "../common/errors";
import { useShell } from "../shell/context";
import { positionForDrop } from "./roleOrder";
import { type Guild, highestPosition, mayManageRole, PERMISSIONS, ROLE } from "../shell/model";

const PERMISSION_LABEL: Record<(typeof PERMISSIONS)[number], string> = {
  administrator: "Administrator",
  manage_guild: "Manage guild",
  manage_channels: "Manage channels",
  manage_roles: "Manage roles",
  kick: "Kick members",
  ban: "Ban members",
  delete_messages: "Delete messages",
  mention_roles: "Mention all roles",
};

/** A new role id: lowercase name letters plus a short random tail (a valid state key). */
function newRoleId(name: string): string {
  const base = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "role";
  return `${base}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Guild settings → Roles: each role is an `im.concord.role` state event of the space
 * (homeserver/chat/schemas.py); deleting one is sending `{}`. Only roles below the user's
 * own rank are editable (guild.py "Who may manage whom"), so the others are read-only.
 */
export function RolesEditor(props: { guild: Guild }) {
  const { actions, userId } = useShell();
  const g = props.guild;
  const roles = [...g.roles.values()].sort((a, b) => b.position - a.position || a.id.localeCompare(b.id));
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const rank = highestPosition(g, userId);

  const create = async () => {
    setError(null);
    // Like Discord, a new role starts at the bottom: below every existing role (and so
    // below our own rank), leaving room to slot others in between.
    const lowest = Math.min(rank, ...roles.map((r) => r.position));
    const position = Math.max(0, Math.min(rank - 1, lowest - 10));
    if (position < 0) {
      setError("You need a role above the new one to create it.");
      return;
    }
    const id = newRoleId("new role");
    try {
      await actions.setState(g.roomId, ROLE, id, { name: "new role", position, permissions: [], color: "#99aab5" });
      setSelected(id);
    } catch (err) {
      setError(plain(err));
    }
  };

  // Drag a role above another to reorder: one new position, midway (roleOrder.ts).
  const [dragging, setDragging] = useState<string | null>(null);
  const dropRole = (e: DragEvent, beforeId: string | null) => {
    e.preventDefault();
    e.stopPropagation();
    const id = dragging;
    setDragging(null);
    const role = id ? g.roles.get(id) : undefined;
    if (!id || !role || id === beforeId) return;
    const position = positionForDrop(roles, id, beforeId, rank);
    if (position === null) {
      setError("A role can't go there: there is no room, or it would be at or above your own role.");
      return;
    }
    const content: Record<string, unknown> = { name: role.name, position, permissions: role.permissions };
    if (role.color) content["color"] = role.color;
    if (role.mentionable) content["mentionable"] = true;
    actions.setState(g.roomId, ROLE, id, content).then(
      () => setError(null),
      (err) => setError(plain(err)),
    );
  };

  const role = selected ? g.roles.get(selected) : undefined;
  return (
    <div class="roles-editor">
      <div class="roles-list">
        <button type="button" onClick={() => void create()}>
          Create role
        </button>
        <ul aria-label="Roles" onDragOver={(e) => dragging && e.preventDefault()} onDrop={(e) => dropRole(e, null)}>
          {roles.map((r) => (
            <li
              key={r.id}
              draggable={mayManageRole(g, userId, r.id)}
              onDragStart={() => setDragging(r.id)}
              onDragEnd={() => setDragging(null)}
              onDragOver={(e) => dragging && e.preventDefault()}
              onDrop={(e) => dropRole(e, r.id)}
              data-role-id={r.id}
            >
              <button
                type="button"
                class={selected === r.id ? "role-item active" : "role-item"}
                onClick={() => setSelected(r.id)}
              >
                <span class="role-dot" style={{ background: r.color ?? "#99aab5" }} aria-hidden="true" />
                {r.name}
              </button>
            </li>
          ))}
        </ul>
      </div>
      {role ? (
        <RoleForm key={`${role.id}:${role.position}`} guild={g} roleId={role.id} onDeleted={() => setSelected(null)} />
      ) : (
        <p class="hint">Pick a role to edit it.</p>
      )}
      <ErrorText error={error} />
    </div>
  );
}

function RoleForm(props: { guild: Guild; roleId: string; onDeleted: () => void }) {
  const { actions, userId } = useShell();
  const g = props.guild;
  const role = g.roles.get(props.roleId)!;
  const [name, setName] = useState(role.name);
  const [color, setColor] = useState(role.color ?? "#99aab5");
  const [position, setPosition] = useState(role.position);
  const [perms, setPerms] = useState<string[]>(role.permissions);
  const [mentionable, setMentionable] = useState(role.mentionable);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const editable = mayManageRole(g, userId, role.id);

  const save = async (e: Event) => {
    e.preventDefault();
    setSaved(false);
    if (!name.trim()) {
      setError("A role needs a name.");
      return;
    }
    if (!mayManageRole(g, userId, role.id, position)) {
      setError("You can only place a role below your own highest role.");
      return;
    }
    try {
      await actions.setState(g.roomId, ROLE, role.id, {
        name: name.trim(),
        color,
        position,
        permissions: perms,
        mentionable,
      });
      setError(null);
      setSaved(true);
    } catch (err) {
      setError(plain(err));
    }
  };
  const remove = async () => {
    try {
      await actions.setState(g.roomId, ROLE, role.id, {});
      props.onDeleted();
    } catch (err) {
      setError(plain(err));
    }
  };
  return (
    <form class="role-form" onSubmit={save} aria-label={`Role ${role.name}`}>
      <fieldset disabled={!editable}>
        <label>
          Role name
          <input value={name} maxLength={100} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Role colour
          <input type="color" value={color} onInput={(e) => setColor(e.currentTarget.value)} />
        </label>
        <label>
          Position (0–1000, higher is more senior)
          <input
            type="number"
            min={0}
            max={1000}
            value={position}
            onInput={(e) => setPosition(Number(e.currentTarget.value))}
          />
        </label>
        <label class="inline">
          <input type="checkbox" checked={mentionable} onChange={(e) => setMentionable(e.currentTarget.checked)} />
          Anyone can @mention this role
        </label>
        <fieldset>
          <legend>Permissions</legend>
          {PERMISSIONS.map((p) => (
            <label key={p} class="inline toggle">
              <input
                type="checkbox"
                checked={perms.includes(p)}
                onChange={(e) => setPerms(e.currentTarget.checked ? [...perms, p] : perms.filter((x) => x !== p))}
              />
              {PERMISSION_LABEL[p]}
            </label>
          ))}
        </fieldset>
      </fieldset>
      {!editable ? <p class="hint">This role is at or above your own, so you cannot change it.</p> : null}
      <ErrorText error={error} />
      {saved ? <p role="status">Saved.</p> : null}
      <div class="actions">
        <button type="button" class="danger" disabled={!editable} onClick={() => void remove()}>
          Delete role
        </button>
        <button type="submit" class="primary" disabled={!editable}>
          Save role
        </button>
      </div>
    </form>
  );
}
