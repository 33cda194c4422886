import { useEffect, useLayoutEffect, useState } from "preact/hooks";

import { canKick } from "../../matrix";
import { Avatar } from "../common/Avatar";
import { plain } from "../common/errors";
import { STATUS_LABEL } from "./grouping";
import { openChannel, profilePopup, useShell } from "../shell/context";
import { guildOf, highestPosition, MEMBER_ROLES, permissionsOf, rolesOf, userView } from "../shell/model";
import { ErrorText } from "../common/Dialog";

/**
 * A user's card: avatar (image or GIF), name, status, description, roles in the guild
 * (editable by those who may assign them, guild.py may_assign_roles), "Message".
 */
export function ProfilePopup() {
  const open = profilePopup.value;
  const { state, actions, userId: me } = useShell();
  const [error, setError] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const target = open?.userId;
  // The global profile holds the description; fetch it when the card opens.
  const [profile, setProfile] = useState<Record<string, unknown>>({});
  // Layout effect: listening from the moment the card is on screen (a plain effect waits
  // for the next frame, and an Escape pressed meanwhile would be lost).
  useLayoutEffect(() => {
    if (!target) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") profilePopup.value = null;
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [target]);
  useEffect(() => {
    setError(null);
    setAdding(false);
    setProfile({});
    if (target) actions.getProfile(target).then(setProfile, () => setProfile({}));
  }, [target]);
  if (!open) return null;
  const s = state();
  const guild = open.guildId ? guildOf(s, open.guildId) : null;
  const view = userView(s, open.userId, guild ? s.rooms[guild.roomId] : undefined);
  const description =
    typeof profile["im.concord.description"] === "string" ? profile["im.concord.description"] : view.description;
  const avatar = view.avatar ?? (typeof profile["avatar_url"] === "string" ? profile["avatar_url"] : null);
  const held = guild ? rolesOf(guild, open.userId) : [];
  const rank = guild ? highestPosition(guild, me) : -1;
  const mayAssign =
    guild !== null &&
    permissionsOf(guild, me).has("manage_roles") &&
    (open.userId === me || highestPosition(guild, open.userId) < rank);

  const setRoles = (roles: string[]) => {
    if (!guild) return;
    const key = open.userId.replace(/^@/, ""); // member_roles_key: the id without its @
    actions.setState(guild.roomId, MEMBER_ROLES, key, { roles }).then(
      () => setError(null),
      (err) => setError(plain(err)),
    );
  };
  const message = () =>
    actions.openDm(open.userId).then(
      ({ room_id }) => {
        profilePopup.value = null;
        openChannel(null, room_id);
      },
      (err) => setError(plain(err)),
    );

  // Out of the space; the steward then removes them from its channels (they lost read).
  const kickOut = () => {
    if (!guild || !confirm(`Kick ${view.displayName} from ${guild.name}?`)) return Promise.resolve();
    return actions.kick(guild.roomId, open.userId).then(
      () => (profilePopup.value = null),
      (err) => setError(plain(err)),
    );
  };

  const left = Math.max(8, Math.min(open.x, window.innerWidth - 330));
  const top = Math.max(8, Math.min(open.y, window.innerHeight - 420));
  return (
    <div class="popup-layer" onClick={(e) => e.target === e.currentTarget && (profilePopup.value = null)}>
      <div class="profile-popup" role="dialog" aria-label={`Profile of ${view.displayName}`} style={{ left, top }}>
        <Avatar name={view.displayName} url={actions.mediaUrl(avatar)} size={80} status={view.status} />
        <h2>{view.displayName}</h2>
        <p class="user-id">{open.userId}</p>
        <p class="status-line" data-testid="profile-status">
          {STATUS_LABEL[view.status]}
        </p>
        {description ? (
          <section>
            <h3>About me</h3>
            <p class="description">{description}</p>
          </section>
        ) : null}
        {guild ? (
          <section>
            <h3>Roles</h3>
            <ul class="role-chips" aria-label="Roles">
              {held.map((r) => {
                const role = guild.roles.get(r)!;
                return (
                  <li key={r} class="chip">
                    <span class="role-dot" style={{ background: role.color ?? "#99aab5" }} aria-hidden="true" />
                    {role.name}
                    {mayAssign && role.position < rank ? (
                      <button
                        type="button"
                        class="icon"
                        aria-label={`Remove role ${role.name}`}
                        onClick={() => setRoles(held.filter((x) => x !== r))}
                      >
                        ✕
                      </button>
                    ) : null}
                  </li>
                );
              })}
              {mayAssign ? (
                <li>
                  <button type="button" class="chip add" aria-label="Add role" onClick={() => setAdding(!adding)}>
                    +
                  </button>
                </li>
              ) : null}
            </ul>
            {adding ? (
              <ul class="role-menu" aria-label="Roles to add">
                {[...guild.roles.values()]
                  .filter((r) => !held.includes(r.id) && r.position < rank)
                  .sort((a, b) => b.position - a.position)
                  .map((r) => (
                    <li key={r.id}>
                      <button type="button" onClick={() => (setRoles([...held, r.id]), setAdding(false))}>
                        <span class="role-dot" style={{ background: r.color ?? "#99aab5" }} aria-hidden="true" />
                        {r.name}
                      </button>
                    </li>
                  ))}
              </ul>
            ) : null}
          </section>
        ) : null}
        {open.userId !== me ? (
          <button type="button" class="primary" onClick={() => void message()}>
            Message
          </button>
        ) : null}
        {guild && open.userId !== me && canKick(s.rooms[guild.roomId], me, open.userId) ? (
          <button type="button" class="danger" onClick={() => void kickOut()}>
            Kick from guild
          </button>
        ) : null}
        <ErrorText error={error} />
      </div>
    </div>
  );
}
