import { HomeIcon } from "../common/icons";
import { useState } from "preact/hooks";

import { Avatar } from "../common/Avatar";
import { dmsOf, invitesOf } from "../../matrix";
import { guildBadge, guildSummaries } from "../shell/model";
import { openGuild, place, useShell } from "../shell/context";
import { CreateGuildDialog } from "./CreateGuildDialog";

/** The left rail: DM home, one round icon per guild (image or initials), "+". */
export function GuildRail() {
  const { state, actions } = useShell();
  const [creating, setCreating] = useState(false);
  const s = state();
  const guilds = guildSummaries(s);
  const spaceInvites = invitesOf(s).filter((i) => i.space);
  const current = place.value.guild;
  // Conversations with something new (pending DM invites count too, as in Discord).
  const unreadDms = dmsOf(s).filter((d) => d.membership === "invite" || d.badge.unread || d.badge.mentions > 0).length;
  return (
    <nav class="guild-rail" aria-label="Guilds">
      <button
        type="button"
        class={current === null ? "rail-item active" : "rail-item"}
        aria-label="Direct Messages"
        aria-current={current === null ? "page" : undefined}
        onClick={() => openGuild(null)}
      >
        <HomeIcon />
        {unreadDms > 0 ? (
          <span class="badge" aria-label={`${unreadDms} unread direct messages`}>
            {unreadDms}
          </span>
        ) : null}
      </button>
      <hr />
      {guilds.map((g) => (
        <button
          type="button"
          key={g.roomId}
          class={current === g.roomId ? "rail-item active" : "rail-item"}
          aria-label={g.name}
          aria-current={current === g.roomId ? "page" : undefined}
          title={g.name}
          onClick={() => openGuild(g.roomId)}
        >
          <Avatar name={g.name} url={actions.mediaUrl(g.avatar)} size={48} />
          <GuildBadge {...guildBadge(s, g.roomId)} />
        </button>
      ))}
      {spaceInvites.map((inv) => (
        <button
          type="button"
          key={inv.roomId}
          class="rail-item invite"
          aria-label={`Join ${inv.name}`}
          title={`Invited to ${inv.name}`}
          onClick={() => void actions.join(inv.roomId).then(() => openGuild(inv.roomId))}
        >
          <Avatar name={inv.name} url={null} size={48} />
          <span class="badge">!</span>
        </button>
      ))}
      <button type="button" class="rail-item add" aria-label="Create a guild" onClick={() => setCreating(true)}>
        +
      </button>
      {creating ? <CreateGuildDialog onClose={() => setCreating(false)} /> : null}
    </nav>
  );
}

/** Discord's marks on a guild icon: a white pill for unread, a red count for mentions. */
function GuildBadge(props: { unread: boolean; mentions: number }) {
  return (
    <>
      {props.unread ? <span class="rail-unread" aria-label="Unread messages" /> : null}
      {props.mentions > 0 ? (
        <span class="badge" aria-label={`${props.mentions} mentions`}>
          {props.mentions}
        </span>
      ) : null}
    </>
  );
}
