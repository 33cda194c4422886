import { MembersIcon, SpeakerIcon } from "../common/icons";
import { useState } from "preact/hooks";

import { plain } from "../common/errors";
import { useShell } from "../shell/context";
import { content, maySendState, roomName, userView } from "../shell/model";
import { ErrorText } from "../common/Dialog";

/**
 * The main pane's header: channel name and description (m.room.topic), which those whose
 * power allows (the channel's compiled `edit_description` level) edit in place.
 */
export function ChannelHeader(props: { roomId: string; dmWith?: string | null; showMembers?: boolean; onToggleMembers?: () => void }) {
  const { state, actions, userId } = useShell();
  const s = state();
  const room = s.rooms[props.roomId];
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const topic = (content(room, "m.room.topic")?.["topic"] as string | undefined) ?? "";
  const voice = content(room, "m.room.create")?.["type"] === "im.concord.voice";
  const name = props.dmWith ? userView(s, props.dmWith).displayName : roomName(room);
  const mayEdit = !props.dmWith && maySendState(room, userId, "m.room.topic");
  const save = (e: Event) => {
    e.preventDefault();
    if (editing === null) return;
    actions.setState(props.roomId, "m.room.topic", "", { topic: editing }).then(
      () => {
        setEditing(null);
        setError(null);
      },
      (err) => setError(plain(err)),
    );
  };
  return (
    <header class="channel-header">
      <span class="channel-icon" aria-hidden="true">
        {props.dmWith ? "@" : voice ? <SpeakerIcon /> : "#"}
      </span>
      <h2>{name}</h2>
      {editing !== null ? (
        <form class="topic-form" onSubmit={save}>
          <label>
            <span class="visually-hidden">Channel description</span>
            <input value={editing} maxLength={1024} autoFocus onInput={(e) => setEditing(e.currentTarget.value)} />
          </label>
          <button type="submit">Save description</button>
          <button type="button" onClick={() => setEditing(null)}>
            Cancel
          </button>
        </form>
      ) : (
        <p class="topic" data-testid="channel-topic">
          {topic}
          {mayEdit ? (
            <button type="button" class="icon" aria-label="Edit channel description" onClick={() => setEditing(topic)}>
              ✎
            </button>
          ) : null}
        </p>
      )}
      <ErrorText error={error} />
      {props.onToggleMembers ? (
        <button
          type="button"
          class="icon members-toggle"
          aria-label={props.showMembers ? "Hide member list" : "Show member list"}
          aria-pressed={props.showMembers}
          onClick={props.onToggleMembers}
        >
          <MembersIcon />
        </button>
      ) : null}
    </header>
  );
}
