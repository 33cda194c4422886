// A voice channel, as Discord shows it: who is connected (before joining: from the room's
// call.member state; once in: the SFU's live participant list), a ring around whoever
// speaks, muted/deafened marks, webcam and screen-share tiles, and the call controls.
// The call lives in web/src/voice (voiceOf(client)): it goes on when this view unmounts.

import { useEffect, useRef } from "preact/hooks";

import type { MatrixClient } from "../../matrix";
import { callMembersOf, voiceOf, type Participant, type RemoteMedia, type VoiceConnection } from "../../voice";
import { Avatar } from "../common/Avatar";
import { roomName, userView, type StateLike } from "../shell/model";
import { mayModerate } from "./moderation";
import "./voice.css";

type Props = { client: MatrixClient; roomId: string };

const STATUS_TEXT: Record<string, string> = {
  connecting: "Connecting…",
  connected: "Voice connected",
  reconnecting: "Reconnecting…",
  failed: "Disconnected",
  idle: "Not connected",
};

export function VoiceChannelView({ client, roomId }: Props) {
  const voice = voiceOf(client);
  const call = voice.current.value;
  const here = call && call.roomId === roomId ? call : null;
  const state = client.store.state.value as unknown as StateLike;
  const room = state.rooms[roomId];
  const name = roomName(room);
  const status = here?.status.value ?? "idle";
  const inCall = here !== null && status !== "idle" && status !== "failed";
  return (
    <section class="voice-view" aria-label={`Voice channel ${name}`} data-room-id={roomId}>
      <header class="voice-header">
        <h2>
          <span aria-hidden="true">🔊</span> {name}
        </h2>
        <span role="status" class={`voice-status voice-status-${status}`}>
          {STATUS_TEXT[status]}
        </span>
      </header>
      {here?.error.value ? (
        <p role="alert" class="voice-error">
          {here.error.value}
        </p>
      ) : null}
      {inCall ? (
        <InCall call={here} client={client} roomId={roomId} state={state} />
      ) : (
        <Lobby client={client} roomId={roomId} state={state} joinLeavesOther={call !== null && call !== here ? roomName(state.rooms[call.roomId]) : null} />
      )}
    </section>
  );
}

function Lobby(props: Props & { state: StateLike; joinLeavesOther: string | null }) {
  const { client, roomId, state } = props;
  const members = callMembersOf(client.store.state.value.rooms[roomId]);
  const room = state.rooms[roomId];
  return (
    <div class="voice-lobby">
      {members.length === 0 ? (
        <p class="voice-empty">No one is here yet.</p>
      ) : (
        <ul class="voice-lobby-list" aria-label="Connected">
          {members.map((m) => {
            const v = userView(state, m.userId, room);
            return (
              <li key={m.userId + m.deviceId} data-testid="voice-member" data-user-id={m.userId}>
                <Avatar name={v.displayName} url={client.mediaUrl(v.avatar, { width: 48, height: 48 })} size={24} />
                {v.displayName}
              </li>
            );
          })}
        </ul>
      )}
      {props.joinLeavesOther ? <p class="voice-note">Joining leaves {props.joinLeavesOther}.</p> : null}
      <button type="button" class="voice-join" onClick={() => void voiceOf(client).join(roomId)}>
        Join voice
      </button>
    </div>
  );
}

function InCall(props: Props & { call: VoiceConnection; state: StateLike }) {
  const { call, client, roomId, state } = props;
  const room = state.rooms[roomId];
  const me = client.userId;
  // After a reconnect the SFU keeps our old session until its drop timeout: not a second us.
  const session = call.sessionId.value;
  const participants = call.participants.value.filter((p) => p.user_id !== me || p.session_id === session);
  const speaking = call.speaking.value;
  const remote = call.remote.value;
  const local = call.local.value;
  const moderator = (target: string) => target !== me && mayModerate(room, me, target);
  const nameOf = (userId: string) => userView(state, userId, room).displayName;
  const videos: { key: string; label: string; stream: MediaStream; kind: string }[] = [];
  for (const kind of ["screen", "webcam"] as const) {
    const track = local[kind];
    if (track) videos.push({ key: `local-${kind}`, label: videoLabel(kind, "you"), stream: streamOf(track), kind });
  }
  for (const r of remote.filter((m: RemoteMedia) => m.kind !== "audio")) {
    videos.push({ key: r.trackId, label: videoLabel(r.kind, nameOf(r.userId)), stream: r.stream, kind: r.kind });
  }
  const mine = participants.find((p) => p.session_id === session);
  return (
    <>
      {mine?.server_muted ? (
        <p class="voice-note" role="note">
          A moderator muted you: the others can't hear you.
        </p>
      ) : null}
      <ul class="voice-participants" aria-label="In the call">
        {participants.map((p: Participant) => (
          <ParticipantTile
            key={p.session_id}
            p={p}
            name={nameOf(p.user_id)}
            avatar={client.mediaUrl(userView(state, p.user_id, room).avatar, { width: 96, height: 96 })}
            speaking={speaking.has(p.user_id) && !p.muted && !p.server_muted}
            isMe={p.user_id === me}
            onModerate={moderator(p.user_id) ? () => call.moderateMute(p.user_id, !p.server_muted) : null}
          />
        ))}
      </ul>
      {videos.length > 0 ? (
        <div class="voice-videos">
          {videos.map((v) => (
            <VideoTile key={v.key} label={v.label} stream={v.stream} kind={v.kind} />
          ))}
        </div>
      ) : null}
      <Controls call={call} onLeave={() => voiceOf(client).leave()} />
    </>
  );
}

function videoLabel(kind: string, who: string): string {
  return kind === "screen" ? `Screen of ${who}` : `Webcam of ${who}`;
}

const localStreams = new WeakMap<MediaStreamTrack, MediaStream>();
function streamOf(track: MediaStreamTrack): MediaStream {
  let stream = localStreams.get(track);
  if (!stream) {
    stream = new MediaStream([track]);
    localStreams.set(track, stream);
  }
  return stream;
}

function ParticipantTile(props: {
  p: Participant;
  name: string;
  avatar: string | null;
  speaking: boolean;
  isMe: boolean;
  onModerate: (() => void) | null;
}) {
  const { p, name } = props;
  return (
    <li
      class={`voice-tile${props.speaking ? " speaking" : ""}`}
      data-testid="voice-participant"
      data-user-id={p.user_id}
      data-session-id={p.session_id}
      data-speaking={props.speaking ? "true" : "false"}
      aria-label={name + (props.isMe ? " (you)" : "")}
    >
      <span class="voice-ring">
        <Avatar name={name} url={props.avatar} size={64} />
      </span>
      <span class="voice-name">{name}</span>
      <span class="voice-marks">
        {p.muted ? (
          <span role="img" aria-label="Muted" title="Muted">
            🔇
          </span>
        ) : null}
        {p.server_muted ? (
          <span role="img" aria-label="Muted by a moderator" title="Muted by a moderator">
            🛡
          </span>
        ) : null}
        {p.deafened ? (
          <span role="img" aria-label="Deafened" title="Deafened">
            🎧
          </span>
        ) : null}
      </span>
      {props.onModerate ? (
        <button type="button" class="voice-moderate" onClick={props.onModerate}>
          {p.server_muted ? `Unmute ${name} for everyone` : `Mute ${name} for everyone`}
        </button>
      ) : null}
    </li>
  );
}

function VideoTile(props: { label: string; stream: MediaStream; kind: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    if (video.srcObject !== props.stream) video.srcObject = props.stream;
    void video.play().catch(() => undefined);
  }, [props.stream]);
  return (
    <figure class={`voice-video voice-video-${props.kind}`}>
      <video ref={ref} autoplay playsInline muted aria-label={props.label} />
      <figcaption>{props.label}</figcaption>
    </figure>
  );
}

function Controls(props: { call: VoiceConnection; onLeave: () => void }) {
  const { call } = props;
  const muted = call.muted.value;
  const deafened = call.deafened.value;
  const camera = !!call.local.value.webcam;
  const screen = !!call.local.value.screen;
  return (
    <div class="voice-controls" role="toolbar" aria-label="Voice controls">
      <button type="button" aria-label="Mute" aria-pressed={muted} onClick={() => call.setMuted(!muted)} title={muted ? "Unmute" : "Mute"}>
        {muted ? "🔇" : "🎙"} Mute
      </button>
      <button type="button" aria-label="Deafen" aria-pressed={deafened} onClick={() => call.setDeafened(!deafened)} title={deafened ? "Undeafen" : "Deafen"}>
        🎧 Deafen
      </button>
      <button type="button" aria-label="Camera" aria-pressed={camera} onClick={() => void call.setCamera(!camera)} title={camera ? "Turn off camera" : "Turn on camera"}>
        📷 Camera
      </button>
      <button type="button" aria-label="Share screen" aria-pressed={screen} onClick={() => void call.setScreenShare(!screen)} title={screen ? "Stop sharing" : "Share your screen"}>
        🖥 Share screen
      </button>
      <button type="button" class="voice-leave" onClick={props.onLeave}>
        Leave
      </button>
    </div>
  );
}
