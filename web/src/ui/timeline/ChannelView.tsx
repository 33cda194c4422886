// PLACEHOLDER owned by W3 (branch web-chat): the shell renders this for a text channel.
// W3's version replaces this file in the merge.
import type { MatrixClient } from "../../matrix";

export function ChannelView(props: { client: MatrixClient; roomId: string }) {
  return <section class="channel-view" aria-label="Messages" data-room-id={props.roomId} />;
}
