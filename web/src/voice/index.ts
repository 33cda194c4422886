/**
 * Voice, video and screen share in the web client (DESIGN.md "Voice, video and screen
 * share"): WebRTC to Concord's SFU. Usage from the UI:
 *
 *   const voice = voiceOf(client);          // one per signed-in client
 *   await voice.join(roomId);               // leaves another channel first
 *   voice.current.value                     // the VoiceConnection (signals: status,
 *                                           // participants, remote, speaking, muted, ...)
 *   callMembersOf(client.store.state.value.rooms[roomId])  // who is in a channel, from
 *                                           // its org.matrix.msc3401.call.member state
 */

import { effect, signal, untracked, type Signal } from "@preact/signals";

import { discover, serverNameOf } from "../matrix/auth";
import type { MatrixClient } from "../matrix/client";
import { MatrixError } from "../matrix/http";
import type { RoomState } from "../matrix/store";
import { ElementAudioOutput, LevelSpeakingDetector } from "./audio";
import { VoiceConnection } from "./connection";
import type { ConnectionDeps } from "./ports";
import { FOCUS_TYPE, requestGrant, sfuUrlFrom, type Fetch, type SfuGrant } from "./focus";
import { browserDevices, WebRtcPublisher, WebRtcSubscriber } from "./webrtc";

export { VoiceConnection } from "./connection";
export type { RemoteMedia, VoiceStatus } from "./ports";
export type { Participant, TrackKind } from "./protocol";

export const CALL_MEMBER = "org.matrix.msc3401.call.member";

export interface CallMember {
  userId: string;
  deviceId: string;
  tracks: string[];
  focusUrl: string | null;
}

function focusUrlOf(content: Record<string, unknown> | undefined): string | null {
  const focus = content?.["focus_active"] as { type?: unknown; url?: unknown } | undefined;
  return focus && focus.type === FOCUS_TYPE && typeof focus.url === "string" ? focus.url : null;
}

/** Who is in the voice channel now: non-empty call.member state (MSC3401/MSC4143; the
 * SFU's bot sends one per device, state key `_{user}_{device}`, empty once they left). */
export function callMembersOf(room: RoomState | undefined): CallMember[] {
  const events = room?.state[CALL_MEMBER] ?? {};
  const members: CallMember[] = [];
  for (const [stateKey, event] of Object.entries(events)) {
    const c = event.content as Record<string, unknown>;
    if (!c || Object.keys(c).length === 0) continue;
    const userId = typeof c["im.concord.user_id"] === "string" ? c["im.concord.user_id"] : stateKey.split("_")[1] ?? "";
    if (!userId.startsWith("@")) continue;
    const tracks = Array.isArray(c["im.concord.tracks"]) ? c["im.concord.tracks"].filter((t) => typeof t === "string") : [];
    members.push({ userId, deviceId: typeof c.device_id === "string" ? c.device_id : "", tracks, focusUrl: focusUrlOf(c) });
  }
  return members.sort((a, b) => a.userId.localeCompare(b.userId));
}

/** SFUs that may serve `room`: the foci its call.member state names (a user of another
 * server joins the room's own SFU), most recent first. */
function roomFoci(room: RoomState | undefined): string[] {
  const urls: string[] = [];
  for (const event of Object.values(room?.state[CALL_MEMBER] ?? {})) {
    const e = event as { content: Record<string, unknown>; unsigned?: { prev_content?: Record<string, unknown> } };
    for (const url of [focusUrlOf(e.content), focusUrlOf(e.unsigned?.prev_content)]) {
      if (url && /^https?:\/\//.test(url) && !urls.includes(url)) urls.push(url.replace(/\/+$/, ""));
    }
  }
  return urls;
}

/** The active call of one signed-in client (one call at a time, as in Discord). */
export class Voice {
  readonly current: Signal<VoiceConnection | null> = signal(null);
  private readonly client: MatrixClient;
  private readonly fetchImpl: Fetch;

  private readonly discover: typeof discover;

  constructor(client: MatrixClient, fetchImpl?: Fetch, discoverImpl: typeof discover = discover) {
    this.client = client;
    this.fetchImpl = fetchImpl ?? ((input, init) => fetch(input, init));
    this.discover = discoverImpl;
    // Closing the tab leaves at once (else the SFU waits for its drop timeout).
    if (typeof window !== "undefined") window.addEventListener("pagehide", () => this.leave());
    // Logging out (or a revoked session) ends the call.
    effect(() => {
      if (client.store.loggedOut.value) untracked(() => this.leave());
    });
  }

  /** Join `roomId`'s call (leaving any other first). */
  async join(roomId: string): Promise<VoiceConnection> {
    const existing = this.current.value;
    if (existing && existing.roomId === roomId) {
      if (existing.status.value === "failed" || existing.status.value === "idle") await existing.join();
      return existing;
    }
    existing?.leave();
    const connection = new VoiceConnection(roomId, this.client.userId, this.deps(roomId));
    this.current.value = connection;
    await connection.join();
    return connection;
  }

  leave(): void {
    this.current.value?.leave();
    this.current.value = null;
  }

  /** Our homeserver's SFU first; if it has none or refuses (its bot is not in a room of
   * another server), the SFUs the room's call.member state names, then the SFU of the
   * server that created the room (a guild's voice channel is made by its own server). */
  async grant(roomId: string): Promise<SfuGrant> {
    const room = this.client.store.state.value.rooms[roomId];
    const tried: string[] = [];
    let last: unknown = null;
    const attempt = async (url: string | null): Promise<SfuGrant | null> => {
      if (!url || tried.includes(url)) return null;
      tried.push(url);
      try {
        return await requestGrant(this.fetchImpl, this.client.session, url, roomId);
      } catch (err) {
        last = err;
        if (!(err instanceof MatrixError) || err.errcode !== "M_FORBIDDEN") throw err;
        return null;
      }
    };
    const own = sfuUrlFrom((await this.client.wellKnown()) as Record<string, unknown>);
    for (const url of [own, ...roomFoci(room)]) {
      const granted = await attempt(url);
      if (granted) return granted;
    }
    const creator = room?.state["m.room.create"]?.[""]?.sender;
    const server = typeof creator === "string" ? serverNameOf(creator) : "";
    if (server && server !== serverNameOf(this.client.userId)) {
      try {
        const found = await this.discover(server, this.fetchImpl);
        const granted = await attempt(sfuUrlFrom(found.wellKnown));
        if (granted) return granted;
      } catch (err) {
        last ??= err;
      }
    }
    if (tried.length === 0) {
      throw new MatrixError(0, "CONCORD_NO_SFU", "Voice isn't available: this homeserver has no voice server.");
    }
    throw last;
  }

  private deps(roomId: string): ConnectionDeps {
    return {
      grant: () => this.grant(roomId),
      webSocket: (url) => new WebSocket(url),
      publisher: () => new WebRtcPublisher(),
      subscriber: () => new WebRtcSubscriber(),
      devices: browserDevices,
      audio: () => new ElementAudioOutput(),
      speaking: (onSpeaking) => new LevelSpeakingDetector(onSpeaking),
    };
  }
}

const voices = new WeakMap<MatrixClient, Voice>();

/** The Voice of `client` (created on first use). */
export function voiceOf(client: MatrixClient): Voice {
  let voice = voices.get(client);
  if (!voice) {
    voice = new Voice(client);
    voices.set(client, voice);
  }
  return voice;
}
