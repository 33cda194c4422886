// The SFU's signaling protocol as the browser speaks it: JSON text frames on the
// WebSocket (sfu/media/signaling.py is the reference; keep the two in step).

/** What a participant publishes: a microphone, a webcam, a screen share. */
export type TrackKind = "audio" | "webcam" | "screen";
export const TRACK_KINDS: readonly TrackKind[] = ["audio", "webcam", "screen"];

export interface PublishedTrackInfo {
  kind: TrackKind;
  track_id: string;
}

export interface Participant {
  user_id: string;
  session_id: string;
  muted: boolean;
  deafened: boolean;
  server_muted: boolean;
  tracks: PublishedTrackInfo[];
}

/** One m-line of the subscribe offer carrying someone's track. */
export interface SubscribedTrack {
  mid: string;
  user_id: string;
  session_id: string;
  kind: TrackKind;
  track_id: string;
}

export type ServerFrame =
  | { type: "joined"; session_id: string; user_id: string; room_id: string }
  | { type: "publish_answer"; sdp: string }
  | { type: "subscribe"; sdp: string; tracks: SubscribedTrack[] }
  | { type: "participants"; participants: Participant[] }
  | { type: "pong" }
  | { type: "error"; errcode: string; error: string };

export type ClientFrame =
  | { type: "join"; token: string }
  | { type: "publish"; sdp: string; tracks: { mid: string; kind: TrackKind }[] }
  | { type: "subscribe_answer"; sdp: string }
  | { type: "mute"; muted: boolean }
  | { type: "deafen"; deafened: boolean }
  | { type: "moderate_mute"; user_id: string; muted: boolean }
  | { type: "leave" }
  | { type: "ping" };

// WebSocket close codes the SFU uses for refusals: retrying cannot help.
export const CLOSE_BAD_TOKEN = 4401;
export const CLOSE_FORBIDDEN = 4403;

const isString = (v: unknown): v is string => typeof v === "string";
const isKind = (v: unknown): v is TrackKind => TRACK_KINDS.includes(v as TrackKind);

function participant(v: unknown): Participant | null {
  if (typeof v !== "object" || v === null) return null;
  const p = v as Record<string, unknown>;
  if (!isString(p.user_id) || !isString(p.session_id)) return null;
  const tracks = Array.isArray(p.tracks) ? p.tracks : [];
  return {
    user_id: p.user_id,
    session_id: p.session_id,
    muted: p.muted === true,
    deafened: p.deafened === true,
    server_muted: p.server_muted === true,
    tracks: tracks.flatMap((t: unknown) => {
      const o = t as Record<string, unknown> | null;
      return o && isKind(o.kind) && isString(o.track_id) ? [{ kind: o.kind, track_id: o.track_id }] : [];
    }),
  };
}

/** A frame from the SFU, checked field by field; null for anything malformed (ignored). */
export function parseServerFrame(text: string): ServerFrame | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof raw !== "object" || raw === null) return null;
  const f = raw as Record<string, unknown>;
  switch (f.type) {
    case "joined":
      return isString(f.session_id) && isString(f.user_id) && isString(f.room_id)
        ? { type: "joined", session_id: f.session_id, user_id: f.user_id, room_id: f.room_id }
        : null;
    case "publish_answer":
      return isString(f.sdp) ? { type: "publish_answer", sdp: f.sdp } : null;
    case "subscribe": {
      if (!isString(f.sdp) || !Array.isArray(f.tracks)) return null;
      const tracks = f.tracks.flatMap((t: unknown) => {
        const o = t as Record<string, unknown> | null;
        return o && isString(o.mid) && isString(o.user_id) && isString(o.session_id) && isKind(o.kind) && isString(o.track_id)
          ? [{ mid: o.mid, user_id: o.user_id, session_id: o.session_id, kind: o.kind, track_id: o.track_id }]
          : [];
      });
      return { type: "subscribe", sdp: f.sdp, tracks };
    }
    case "participants":
      if (!Array.isArray(f.participants)) return null;
      return {
        type: "participants",
        participants: f.participants.map(participant).filter((p): p is Participant => p !== null),
      };
    case "pong":
      return { type: "pong" };
    case "error":
      return { type: "error", errcode: isString(f.errcode) ? f.errcode : "M_UNKNOWN", error: isString(f.error) ? f.error : "" };
    default:
      return null;
  }
}
