// PLACEHOLDER owned by W4 (branch web-voice): the shell renders this for a voice channel.
// W4's version replaces this file in the merge.
import type { MatrixClient } from "../../matrix";

export function VoiceChannelView(props: { client: MatrixClient; roomId: string }) {
  return <section class="voice-view" aria-label="Voice channel" data-room-id={props.roomId} />;
}
