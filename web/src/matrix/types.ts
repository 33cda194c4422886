// JSON shapes of the client-server API that the store reads (spec: client-server
// "Syncing", "Events"). Only the fields we use are typed; the rest stays in the JSON.

export type Json = Record<string, unknown>;

export interface MatrixEvent {
  type: string;
  content: Json;
  sender: string;
  event_id: string;
  origin_server_ts: number;
  state_key?: string;
  /** Room v1-10 redactions carry it here; v11+ in content.redacts. */
  redacts?: string;
  unsigned?: {
    transaction_id?: string;
    redacted_because?: MatrixEvent;
    prev_content?: Json;
    age?: number;
    [key: string]: unknown;
  };
  room_id?: string;
}

/** Stripped state (invites) and ephemeral/account-data events have fewer fields. */
export interface BasicEvent {
  type: string;
  content: Json;
  sender?: string;
  state_key?: string;
}

export interface TimelineChunk {
  events?: MatrixEvent[];
  limited?: boolean;
  prev_batch?: string;
}

export interface JoinedRoomSync {
  summary?: { "m.heroes"?: string[]; "m.joined_member_count"?: number; "m.invited_member_count"?: number };
  state?: { events?: MatrixEvent[] };
  /** MSC4222 / v1.16 `use_state_after`; treated like state but applied after the timeline. */
  state_after?: { events?: MatrixEvent[] };
  timeline?: TimelineChunk;
  ephemeral?: { events?: BasicEvent[] };
  account_data?: { events?: BasicEvent[] };
  unread_notifications?: { notification_count?: number; highlight_count?: number };
}

export interface InvitedRoomSync {
  invite_state?: { events?: BasicEvent[] };
}

export interface KnockedRoomSync {
  knock_state?: { events?: BasicEvent[] };
}

export interface LeftRoomSync {
  state?: { events?: MatrixEvent[] };
  timeline?: TimelineChunk;
  account_data?: { events?: BasicEvent[] };
}

export interface SyncResponse {
  next_batch: string;
  rooms?: {
    join?: Record<string, JoinedRoomSync>;
    invite?: Record<string, InvitedRoomSync>;
    knock?: Record<string, KnockedRoomSync>;
    leave?: Record<string, LeftRoomSync>;
  };
  presence?: { events?: BasicEvent[] };
  account_data?: { events?: BasicEvent[] };
}

/** GET /rooms/{id}/messages (spec: "Syncing" / "Getting events for a room"). */
export interface MessagesResponse {
  start: string;
  end?: string;
  chunk: MatrixEvent[];
  state?: MatrixEvent[];
}
