import { GearIcon, LogoutIcon, PersonAddIcon } from "../common/icons";
import { useState } from "preact/hooks";

import { Dialog, ErrorText } from "../common/Dialog";
import { plain } from "../common/errors";
import { openGuild, useShell } from "../shell/context";
import { type Guild, permissionsOf } from "../shell/model";
import { GuildSettings } from "./GuildSettings";

/** The top of the channel sidebar: the banner (if any) under the guild's name, with menus. */
export function GuildHeader(props: { guild: Guild }) {
  const { actions, userId } = useShell();
  const [open, setOpen] = useState<"settings" | "invite" | null>(null);
  const banner = actions.mediaUrl(props.guild.banner);
  const perms = permissionsOf(props.guild, userId);
  const mayEdit = perms.has("manage_guild") || perms.has("manage_roles");
  const [error, setError] = useState<string | null>(null);
  // Leaving the space is what counts (members of a guild are its space's members); the
  // channels are left too so they vanish at once rather than when the steward acts.
  const leave = async () => {
    if (!confirm(`Leave ${props.guild.name}? You will need a new invite to come back.`)) return;
    try {
      await actions.leave(props.guild.roomId);
      openGuild(null);
      for (const c of props.guild.channels) if (c.joined) await actions.leave(c.roomId).catch(() => undefined);
    } catch (err) {
      setError(plain(err));
    }
  };
  return (
    <header class={banner ? "guild-header with-banner" : "guild-header"}>
      {banner ? <img class="banner" src={banner} alt={`${props.guild.name} banner`} /> : null}
      <div class="guild-title">
        <h1>{props.guild.name}</h1>
        <button type="button" class="icon" aria-label="Invite people" title="Invite people" onClick={() => setOpen("invite")}>
          <PersonAddIcon />
        </button>
        {props.guild.owner !== userId ? (
          <button type="button" class="icon" aria-label="Leave guild" title="Leave guild" onClick={() => void leave()}>
            <LogoutIcon />
          </button>
        ) : null}
        {mayEdit ? (
          <button type="button" class="icon" aria-label="Guild settings" title="Guild settings" onClick={() => setOpen("settings")}>
            <GearIcon />
          </button>
        ) : null}
      </div>
      <ErrorText error={error} />
      {open === "settings" ? <GuildSettings guild={props.guild} onClose={() => setOpen(null)} /> : null}
      {open === "invite" ? <InviteDialog guild={props.guild} onClose={() => setOpen(null)} /> : null}
    </header>
  );
}

/** Invite a user to the guild space (its power levels let every member invite). */
function InviteDialog(props: { guild: Guild; onClose: () => void }) {
  const { actions } = useShell();
  const [user, setUser] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  return (
    <Dialog title={`Invite people to ${props.guild.name}`} onClose={props.onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const id = user.trim();
          if (!/^@[^:]+:.+$/.test(id)) {
            setError("Enter a full user id, like @name:server.");
            return;
          }
          setError(null);
          actions.invite(props.guild.roomId, id).then(
            () => {
              setDone(`Invited ${id}.`);
              setUser("");
            },
            (err) => setError(plain(err)),
          );
        }}
      >
        <label>
          User id
          <input value={user} placeholder="@name:server" autoFocus onInput={(e) => setUser(e.currentTarget.value)} />
        </label>
        <ErrorText error={error} />
        {done ? <p role="status">{done}</p> : null}
        <div class="actions">
          <button type="submit" class="primary">
            Invite
          </button>
        </div>
      </form>
    </Dialog>
  );
}
