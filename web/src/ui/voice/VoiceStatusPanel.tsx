// Discord's "Voice Connected" panel above the user panel: the call goes on while the
// person reads other channels; this shows where they are connected and lets them leave
// from anywhere. Renders nothing outside a call.

import type { MatrixClient } from "../../matrix";
import { voiceOf } from "../../voice";
import { roomName, type StateLike } from "../shell/model";
import "./voice.css";

const TEXT: Record<string, string> = {
  connecting: "Connecting…",
  connected: "Voice connected",
  reconnecting: "Reconnecting…",
  failed: "Voice disconnected",
};

export function VoiceStatusPanel({ client, onOpen }: { client: MatrixClient; onOpen?: (roomId: string) => void }) {
  const call = voiceOf(client).current.value;
  const status = call?.status.value ?? "idle";
  if (!call || status === "idle") return null;
  const state = client.store.state.value as unknown as StateLike;
  const name = roomName(state.rooms[call.roomId]);
  return (
    <div class={`voice-panel voice-status-${status}`} role="region" aria-label="Voice status">
      <button type="button" class="voice-panel-where" onClick={() => onOpen?.(call.roomId)} title="Open the voice channel">
        <strong>{TEXT[status]}</strong>
        <span>{name}</span>
      </button>
      <button type="button" class="voice-panel-leave" aria-label="Disconnect" title="Disconnect" onClick={() => voiceOf(client).leave()}>
        ✕
      </button>
    </div>
  );
}
