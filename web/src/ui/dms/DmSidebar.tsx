import { useState } from "preact/hooks";

import { dmsOf, plainRoomsOf } from "../../matrix";
import { Avatar } from "../common/Avatar";
import { SpeakerIcon } from "../common/icons";
import { statusOf } from "../members/grouping";
import { plain } from "../common/errors";
import { openChannel, place, useShell } from "../shell/context";
import { ErrorText } from "../common/Dialog";

/** The "Direct Messages" home: the DM list, pending DM invites, "message a user". */
export function DmSidebar() {
  const { state, actions, client } = useShell();
  const [user, setUser] = useState("");
  const [error, setError] = useState<string | null>(null);
  const s = state();
  const all = dmsOf(s);
  const dms = all.filter((d) => d.membership === "join");
  const invites = all.filter((d) => d.membership === "invite");
  const start = (e: Event) => {
    e.preventDefault();
    const id = user.trim();
    if (!/^@[^:]+:.+$/.test(id)) {
      setError("Enter a full user id, like @name:server.");
      return;
    }
    actions.openDm(id).then(
      ({ room_id }) => {
        setUser("");
        setError(null);
        openChannel(null, room_id);
      },
      (err) => setError(plain(err)),
    );
  };
  return (
    <aside class="sidebar" aria-label="Direct Messages">
      <header class="guild-header">
        <div class="guild-title">
          <h1>Direct Messages</h1>
        </div>
      </header>
      <div class="channel-scroll">
        <form class="dm-start" onSubmit={start}>
          <label>
            Message a user
            <input value={user} placeholder="@name:server" onInput={(e) => setUser(e.currentTarget.value)} />
          </label>
          <button type="submit">Message</button>
        </form>
        <ErrorText error={error} />
        {invites.length > 0 ? (
          <ul class="channel-group" aria-label="Invites">
            {invites.map((inv) => (
              <li key={inv.roomId} class="channel">
                <button
                  type="button"
                  class="channel-link"
                  onClick={() => void actions.join(inv.roomId).then(() => openChannel(null, inv.roomId), (err) => setError(plain(err)))}
                >
                  Accept DM from {inv.userId}
                </button>
              </li>
            ))}
          </ul>
        ) : null}
        <ul class="channel-group" aria-label="Direct message list">
          {dms.map((dm) => {
            const active = place.value.channel === dm.roomId;
            const unread = dm.badge.unread || dm.badge.mentions > 0;
            return (
              <li key={dm.roomId} class={`channel dm ${active ? "active" : ""} ${unread ? "unread" : ""}`}>
                <button
                  type="button"
                  class="channel-link"
                  aria-current={active ? "page" : undefined}
                  onClick={() => openChannel(null, dm.roomId)}
                >
                  <Avatar name={dm.name} url={actions.mediaUrl(dm.avatarUrl ?? null)} size={32} status={statusOf(dm.status)} />
                  <span class="channel-name">{dm.name}</span>
                  {dm.badge.mentions > 0 ? <span class="badge mention">{dm.badge.mentions}</span> : null}
                </button>
              </li>
            );
          })}
        </ul>
        <PlainRooms rooms={plainRoomsOf(client.store.state.value)} />
      </div>
    </aside>
  );
}

/**
 * Plain Matrix rooms (neither guilds, channels nor DMs): what a user of another
 * homeserver has, shown so the client works there too (DESIGN.md "Web client").
 */
function PlainRooms(props: { rooms: ReturnType<typeof plainRoomsOf> }) {
  if (props.rooms.length === 0) return null;
  return (
    <section aria-label="Rooms">
      <h3 class="list-title">Rooms</h3>
      <ul class="channel-group">
        {props.rooms.map((r) => {
          const active = place.value.channel === r.roomId;
          const unread = r.badge.unread;
          return (
            <li key={r.roomId} class={`channel ${active ? "active" : ""} ${unread ? "unread" : ""}`}>
              <button
                type="button"
                class="channel-link"
                aria-current={active ? "page" : undefined}
                aria-label={`Room ${r.name}`}
                onClick={() => openChannel(null, r.roomId)}
              >
                <span class="channel-icon" aria-hidden="true">
                  {r.kind === "voice" ? <SpeakerIcon /> : "#"}
                </span>
                <span class="channel-name">{r.name}</span>
                {r.badge.mentions > 0 ? <span class="badge mention">{r.badge.mentions}</span> : null}
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
