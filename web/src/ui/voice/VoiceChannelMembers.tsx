// Who is in a voice channel, for the channel sidebar (under the voice channel's row, as
// Discord shows it): live from the SFU while we are in that call (with the speaking ring),
// else from the room's call.member state.

import type { MatrixClient } from "../../matrix";
import { callMembersOf, voiceOf } from "../../voice";
import { Avatar } from "../common/Avatar";
import { userView, type StateLike } from "../shell/model";
import "./voice.css";

export function VoiceChannelMembers({ client, roomId }: { client: MatrixClient; roomId: string }) {
  const state = client.store.state.value as unknown as StateLike;
  const room = state.rooms[roomId];
  const call = voiceOf(client).current.value;
  const live = call && call.roomId === roomId && call.status.value === "connected" ? call : null;
  const userIds = live
    ? [...new Set(live.participants.value.map((p) => p.user_id))]
    : [...new Set(callMembersOf(client.store.state.value.rooms[roomId]).map((m) => m.userId))];
  if (userIds.length === 0) return null;
  const speaking = live?.speaking.value ?? new Set<string>();
  return (
    <ul class="voice-sidebar-members" aria-label="Connected to voice">
      {userIds.map((id) => {
        const v = userView(state, id, room);
        return (
          <li key={id} class={speaking.has(id) ? "speaking" : ""} data-user-id={id}>
            <Avatar name={v.displayName} url={client.mediaUrl(v.avatar, { width: 40, height: 40 })} size={20} />
            {v.displayName}
          </li>
        );
      })}
    </ul>
  );
}
