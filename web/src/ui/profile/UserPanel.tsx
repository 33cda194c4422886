import { GearIcon, LogoutIcon } from "../common/icons";
import { useState } from "preact/hooks";

import { Avatar } from "../common/Avatar";
import { plain } from "../common/errors";
import { STATUS_LABEL, type Status } from "../members/grouping";
import { place, profilePopup, useShell } from "../shell/context";
import { userView } from "../shell/model";
import { ProfileSettings } from "./ProfileSettings";
import { ErrorText } from "../common/Dialog";

// The UI's status → presence (README "Users": Away is unavailable).
const PRESENCE = { online: "online", away: "unavailable", busy: "busy", offline: "offline" } as const;

/** The bar under the channel list: own avatar, name and status picker, settings, log out. */
export function UserPanel() {
  const { state, actions, userId, logout } = useShell();
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const me = userView(state(), userId);
  const setStatus = (status: Status) =>
    actions.setPresence(PRESENCE[status]).then(
      () => setError(null),
      (err) => setError(plain(err)),
    );
  return (
    <footer class="user-panel" aria-label="You">
      <button
        type="button"
        class="icon avatar-button"
        aria-label="Your profile"
        onClick={(e) => {
          const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
          profilePopup.value = { userId, guildId: place.value.guild, x: r.left, y: r.top - 400 };
        }}
      >
        <Avatar name={me.displayName} url={actions.mediaUrl(me.avatar)} size={32} status={me.status} />
      </button>
      <div class="user-names">
        <span class="display-name">{me.displayName}</span>
        <label class="status-picker">
          <span class="visually-hidden">Status</span>
          <select value={me.status} onChange={(e) => void setStatus(e.currentTarget.value as Status)}>
            {(Object.keys(STATUS_LABEL) as Status[]).map((s) => (
              <option key={s} value={s}>
                {STATUS_LABEL[s]}
              </option>
            ))}
          </select>
        </label>
      </div>
      <button type="button" class="icon" aria-label="Profile settings" title="Profile settings" onClick={() => setEditing(true)}>
        <GearIcon />
      </button>
      <button type="button" class="icon" aria-label="Log out" title="Log out" onClick={logout}>
        <LogoutIcon />
      </button>
      <ErrorText error={error} />
      {editing ? <ProfileSettings onClose={() => setEditing(false)} /> : null}
    </footer>
  );
}
