import { useEffect, useMemo, useState } from "preact/hooks";

import type { MatrixClient } from "../../matrix";
import { ChannelHeader } from "../channels/ChannelHeader";
import { ChannelSidebar } from "../channels/ChannelSidebar";
import { plain } from "../common/errors";
import { DmSidebar } from "../dms/DmSidebar";
import { GuildRail } from "../guilds/GuildRail";
import { MemberList } from "../members/MemberList";
import { ProfilePopup } from "../members/ProfilePopup";
import { UserPanel } from "../profile/UserPanel";
import { ChannelView } from "../timeline/ChannelView";
import { VoiceChannelView } from "../voice/VoiceChannelView";
import { VoiceStatusPanel } from "../voice/VoiceStatusPanel";
import { ShellActions } from "./actions";
import { openChannel, place, ShellContext, type ShellEnv } from "./context";
import { guildOfChannel, isDirect } from "../../matrix";
import { channelInvitesToJoin, content, guildOf, mutedRooms } from "./model";

/** Discord's layout: guild rail | channel sidebar | main pane | member list. */
export function Shell(props: { client: MatrixClient; onLogout: () => void }) {
  const { client } = props;
  const env = useMemo<ShellEnv>(
    () => ({
      client,
      state: () => client.store.state.value,
      actions: new ShellActions(client),
      userId: client.userId,
      logout: props.onLogout,
    }),
    [client],
  );
  const s = client.store.state.value;
  useAutoJoinChannels(env, s);
  const [showMembers, setShowMembers] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const here = place.value;
  const guild = here.guild ? guildOf(s, here.guild) : null;
  const muted = mutedRooms(s);
  const channelId = here.channel && s.rooms[here.channel]?.membership === "join" ? here.channel : null;
  const channelRoom = channelId ? s.rooms[channelId] : undefined;
  const voice = content(channelRoom, "m.room.create")?.["type"] === "im.concord.voice";
  const dmWith = !here.guild && channelId ? (isDirect(s, channelId) ?? null) : null;

  const onMuted = (roomId: string, mute: boolean) =>
    env.actions.setMuted(roomId, mute).then(
      () => setError(null),
      (err) => setError(plain(err)),
    );

  if (!s.ready) {
    // The sync keeps retrying by itself; say why nothing shows yet, and offer a way out.
    const why = client.store.syncError.value;
    return (
      <div class="loading" role="status">
        <p>{why ? `Can't reach your homeserver yet: ${why}` : "Loading your guilds…"}</p>
        {why ? (
          <button type="button" class="link" onClick={props.onLogout}>
            Log out
          </button>
        ) : null}
      </div>
    );
  }
  return (
    <ShellContext.Provider value={env}>
      <div class="shell">
        <GuildRail />
        <div class="sidebar-column">
          {guild ? <ChannelSidebar guild={guild} muted={muted} onMuted={(r, m) => void onMuted(r, m)} /> : <DmSidebar />}
          {/* As Discord: the call's panel sits above the user panel, whatever is shown. */}
          <VoiceStatusPanel client={client} onOpen={(roomId) => openChannel(guildOfChannel(s, roomId) ?? null, roomId)} />
          <UserPanel />
        </div>
        <main class="main-pane">
          {client.store.syncError.value ? (
            <p class="banner-error" role="alert">
              {client.store.syncError.value}
            </p>
          ) : null}
          {error ? (
            <p class="banner-error" role="alert">
              {error}
            </p>
          ) : null}
          {channelId ? (
            <>
              {/* The shell draws the text view's header (name, editable description);
                  the voice view has its own, with the call's status. */}
              {voice ? null : (
                <ChannelHeader
                  roomId={channelId}
                  dmWith={dmWith}
                  showMembers={showMembers}
                  onToggleMembers={guild ? () => setShowMembers(!showMembers) : undefined}
                />
              )}
              <div class="main-body">
                {voice ? (
                  <VoiceChannelView key={channelId} client={client} roomId={channelId} />
                ) : (
                  <ChannelView key={channelId} client={client} roomId={channelId} />
                )}
                {guild && showMembers ? <MemberList guild={guild} /> : null}
              </div>
            </>
          ) : (
            <div class="main-body">
              <div class="empty-pane">
                <p>{guild ? "Pick a channel on the left." : "Pick a conversation, or message someone by their user id."}</p>
              </div>
              {guild && showMembers ? <MemberList guild={guild} /> : null}
            </div>
          )}
        </main>
        <ProfilePopup />
      </div>
    </ShellContext.Provider>
  );
}

/**
 * The steward invites members into the channels they may read (README "The Concord
 * layer"); a Discord user expects to simply see those channels, so their invites are
 * accepted here, once each, for channels of guilds the user is in.
 */
function useAutoJoinChannels(env: ShellEnv, s: ReturnType<ShellEnv["state"]>) {
  const [tried] = useState(() => new Set<string>());
  const invited = channelInvitesToJoin(s);
  // A room we were invited to again (after losing read and regaining it) is tried anew.
  for (const roomId of [...tried]) if (s.rooms[roomId]?.membership !== "invite") tried.delete(roomId);
  const pending = invited.filter((r) => !tried.has(r));
  useEffect(() => {
    for (const roomId of pending) {
      tried.add(roomId);
      env.actions.join(roomId).catch(() => tried.delete(roomId));
    }
  }, [pending.join(",")]);
}
