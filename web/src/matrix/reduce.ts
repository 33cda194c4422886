// Pure reducers: sync JSON, /messages pages and local sends → a new StoreState
// (spec: client-server "Syncing"). No I/O and no clock: `now` is passed in.

import {
  addReaction,
  applyRedaction,
  applyRelation,
  draftRelations,
  redactedId,
  removeReaction,
  renameReaction,
} from "./relations";
import {
  emptyRoom,
  type LocalEcho,
  type Membership,
  type Presence,
  type RoomState,
  type StoreState,
} from "./store";
import type { BasicEvent, JoinedRoomSync, Json, MatrixEvent, MessagesResponse, SyncResponse } from "./types";

/** A copy of `room` whose containers may be changed without touching the old value. */
function draftRoom(room: RoomState): RoomState {
  return {
    ...room,
    state: { ...room.state },
    timeline: [...room.timeline],
    pending: [...room.pending],
    relations: draftRelations(room.relations),
    receipts: { ...room.receipts },
    accountData: { ...room.accountData },
  };
}

function setState(room: RoomState, event: MatrixEvent | BasicEvent): void {
  if (typeof event.state_key !== "string") return;
  room.state[event.type] = { ...(room.state[event.type] ?? {}), [event.state_key]: event };
}

/** Drop the local echo the server just echoed back (by txn id, or by the id it returned). */
function settleEcho(room: RoomState, event: MatrixEvent): void {
  const txnId = event.unsigned?.transaction_id;
  const index = room.pending.findIndex(
    (p) => (txnId !== undefined && p.txnId === txnId) || (p.eventId !== undefined && p.eventId === event.event_id),
  );
  if (index >= 0) room.pending.splice(index, 1);
}

/** Add a timeline event arriving in order (sync) to the end of the draft. */
function appendEvent(room: RoomState, event: MatrixEvent, seen: Set<string>): void {
  settleEcho(room, event);
  if (seen.has(event.event_id)) return;
  seen.add(event.event_id);
  if (typeof event.state_key === "string") setState(room, event);
  if (event.type === "m.room.redaction") {
    applyRedaction(room, event);
    return;
  }
  if (applyRelation(room, event)) return;
  const redaction = room.relations.redactions[event.event_id];
  room.timeline.push(redaction ? { ...event, content: {}, unsigned: { ...event.unsigned, redacted_because: redaction } } : event);
}

function applyEphemeral(room: RoomState, events: BasicEvent[]): void {
  for (const event of events) {
    if (event.type === "m.typing") {
      const ids = event.content["user_ids"];
      room.typing = Array.isArray(ids) ? ids.filter((u): u is string => typeof u === "string") : [];
    } else if (event.type === "m.receipt") {
      // spec: "Receipts": {event_id: {"m.read": {user_id: {ts}}}}; threads are ignored.
      for (const [eventId, byType] of Object.entries(event.content)) {
        const reads = { ...((byType as Json)["m.read"] as Json), ...((byType as Json)["m.read.private"] as Json) };
        for (const [userId, info] of Object.entries(reads)) {
          const ts = Number((info as Json | undefined)?.["ts"] ?? 0);
          const old = room.receipts[userId];
          if (!old || old.ts <= ts) room.receipts[userId] = { eventId, ts };
        }
      }
    }
  }
}

function applyAccountData(target: Record<string, Json>, events: BasicEvent[] | undefined): void {
  for (const event of events ?? []) target[event.type] = event.content;
}

function applyJoined(old: RoomState | undefined, roomId: string, sync: JoinedRoomSync, membership: Membership): RoomState {
  const room = draftRoom(old ?? emptyRoom(roomId, membership));
  room.membership = membership;
  const timeline = sync.timeline ?? {};
  for (const event of sync.state?.events ?? []) setState(room, event);
  if (timeline.limited) {
    // A gap: what we hold is no longer contiguous with the new events. Start the
    // timeline again from this batch and paginate back from its prev_batch.
    room.timeline = [];
    room.atStart = false;
  }
  if (timeline.limited || !old || (old.timeline.length === 0 && !old.atStart)) {
    room.prevBatch = timeline.prev_batch ?? room.prevBatch;
  }
  const seen = new Set(room.timeline.map((e) => e.event_id));
  for (const event of timeline.events ?? []) appendEvent(room, event, seen);
  for (const event of sync.state_after?.events ?? []) setState(room, event);
  applyEphemeral(room, sync.ephemeral?.events ?? []);
  applyAccountData(room.accountData, sync.account_data?.events);
  const counts = sync.unread_notifications;
  if (counts) {
    room.notificationCount = counts.notification_count ?? 0;
    room.highlightCount = counts.highlight_count ?? 0;
  }
  const summary = sync.summary;
  if (summary) {
    if (summary["m.heroes"]) room.heroes = summary["m.heroes"];
    if (summary["m.joined_member_count"] !== undefined) room.joinedCount = summary["m.joined_member_count"];
    if (summary["m.invited_member_count"] !== undefined) room.invitedCount = summary["m.invited_member_count"];
  }
  return room;
}

function strippedRoom(old: RoomState | undefined, roomId: string, events: BasicEvent[], membership: Membership): RoomState {
  const room = draftRoom(old ?? emptyRoom(roomId, membership));
  room.membership = membership;
  for (const event of events) setState(room, event);
  return room;
}

function presenceFrom(event: BasicEvent, now: number): Presence {
  return presenceFromContent(event.content, now);
}

/** m.presence content (or a GET /presence body) → Presence; last_active_ago made absolute. */
export function presenceFromContent(c: Json, now: number): Presence {
  const ago = typeof c["last_active_ago"] === "number" ? c["last_active_ago"] : null;
  return {
    presence: typeof c["presence"] === "string" ? c["presence"] : "offline",
    lastActiveTs: ago === null ? null : now - ago,
    currentlyActive: c["currently_active"] === true,
    statusMsg: typeof c["status_msg"] === "string" ? c["status_msg"] : null,
  };
}

/** Apply one /sync (or WebSocket sync message) body. */
export function applySync(state: StoreState, sync: SyncResponse, now: number): StoreState {
  const rooms = { ...state.rooms };
  for (const [roomId, joined] of Object.entries(sync.rooms?.join ?? {})) {
    rooms[roomId] = applyJoined(rooms[roomId], roomId, joined, "join");
  }
  for (const [roomId, invited] of Object.entries(sync.rooms?.invite ?? {})) {
    rooms[roomId] = strippedRoom(rooms[roomId], roomId, invited.invite_state?.events ?? [], "invite");
  }
  for (const [roomId, knocked] of Object.entries(sync.rooms?.knock ?? {})) {
    rooms[roomId] = strippedRoom(rooms[roomId], roomId, knocked.knock_state?.events ?? [], "knock");
  }
  for (const [roomId, left] of Object.entries(sync.rooms?.leave ?? {})) {
    const room = applyJoined(rooms[roomId], roomId, left, "leave");
    const own = state.userId ? room.state["m.room.member"]?.[state.userId] : undefined;
    if (own?.content["membership"] === "ban") room.membership = "ban";
    rooms[roomId] = room;
  }
  let presence = state.presence;
  const presenceEvents = sync.presence?.events ?? [];
  if (presenceEvents.length) {
    presence = { ...presence };
    for (const event of presenceEvents) {
      if (event.sender) presence[event.sender] = presenceFrom(event, now);
    }
  }
  let accountData = state.accountData;
  if (sync.account_data?.events?.length) {
    accountData = { ...accountData };
    applyAccountData(accountData, sync.account_data.events);
  }
  return { ...state, rooms, presence, accountData, nextBatch: sync.next_batch, ready: true };
}

/** Apply a backward /messages page: older events go before what we hold. */
export function applyMessages(state: StoreState, roomId: string, page: MessagesResponse): StoreState {
  const old = state.rooms[roomId];
  if (!old) return state;
  const room = draftRoom(old);
  const seen = new Set(room.timeline.map((e) => e.event_id));
  for (const event of page.state ?? []) {
    // Lazy-loaded members of the senders in this page (spec: "Lazy-loading room members").
    if (event.type === "m.room.member" && typeof event.state_key === "string" && !room.state["m.room.member"]?.[event.state_key]) {
      setState(room, event);
    }
  }
  // chunk is newest first (dir=b). Redactions of older events already shown are rare;
  // we apply relations first so that events inserted below carry them.
  const older: MatrixEvent[] = [];
  for (const event of page.chunk) {
    if (seen.has(event.event_id)) continue;
    seen.add(event.event_id);
    if (event.type === "m.room.redaction") {
      const target = redactedId(event);
      if (target) room.relations.redactions[target] = event;
      applyRedaction(room, event);
      continue;
    }
    if (applyRelation(room, event)) continue;
    older.push(event);
  }
  older.reverse();
  const shaped = older.map((event) => {
    const redaction = room.relations.redactions[event.event_id];
    return redaction ? { ...event, content: {}, unsigned: { ...event.unsigned, redacted_because: redaction } } : event;
  });
  room.timeline = [...shaped, ...room.timeline];
  // spec: no `end` means there are no more events to paginate.
  room.prevBatch = page.end ?? null;
  room.atStart = !page.end || page.chunk.length === 0;
  return { ...state, rooms: { ...state.rooms, [roomId]: room } };
}

/** Apply the full member list (GET /rooms/{id}/members). */
export function applyMembers(state: StoreState, roomId: string, members: MatrixEvent[]): StoreState {
  const old = state.rooms[roomId];
  if (!old) return state;
  const room = draftRoom(old);
  for (const event of members) setState(room, event);
  room.membersLoaded = true;
  return { ...state, rooms: { ...state.rooms, [roomId]: room } };
}

/** Apply a state event we just read or wrote, ahead of sync (idempotent with sync). */
export function applyStateEvent(state: StoreState, roomId: string, event: MatrixEvent | BasicEvent): StoreState {
  const old = state.rooms[roomId];
  if (!old) return state;
  const room = draftRoom(old);
  setState(room, event);
  return { ...state, rooms: { ...state.rooms, [roomId]: room } };
}

function withRoom(state: StoreState, roomId: string, change: (room: RoomState) => void): StoreState {
  const old = state.rooms[roomId];
  if (!old) return state;
  const room = draftRoom(old);
  change(room);
  return { ...state, rooms: { ...state.rooms, [roomId]: room } };
}

/** A send started: show it at once as a local echo (status "sending"). */
export function addEcho(state: StoreState, roomId: string, echo: LocalEcho): StoreState {
  return withRoom(state, roomId, (room) => {
    const index = room.pending.findIndex((p) => p.txnId === echo.txnId);
    if (index >= 0) room.pending[index] = echo;
    else room.pending.push(echo);
  });
}

/** The server accepted a send (it gave an event id); sync will replace the echo. */
export function echoSent(state: StoreState, roomId: string, txnId: string, eventId: string): StoreState {
  return withRoom(state, roomId, (room) => {
    const index = room.pending.findIndex((p) => p.txnId === txnId);
    if (index < 0) return;
    if (room.timeline.some((e) => e.event_id === eventId)) {
      room.pending.splice(index, 1); // sync was faster than the HTTP answer
      return;
    }
    room.pending[index] = { ...room.pending[index]!, status: "sent", eventId, error: undefined };
  });
}

/** A send failed: keep the content (the user retries with the same txn id). */
export function echoFailed(state: StoreState, roomId: string, txnId: string, error: string): StoreState {
  return withRoom(state, roomId, (room) => {
    const index = room.pending.findIndex((p) => p.txnId === txnId);
    if (index >= 0) room.pending[index] = { ...room.pending[index]!, status: "failed", error };
  });
}

/** The user gave up on a failed send. */
export function dropEcho(state: StoreState, roomId: string, txnId: string): StoreState {
  return withRoom(state, roomId, (room) => {
    room.pending = room.pending.filter((p) => p.txnId !== txnId);
  });
}

/** Our own read receipt, shown at once (the server echoes it through sync). */
export function applyOwnReceipt(state: StoreState, roomId: string, eventId: string, now: number): StoreState {
  if (!state.userId) return state;
  const userId = state.userId;
  return withRoom(state, roomId, (room) => {
    room.receipts[userId] = { eventId, ts: now };
    room.notificationCount = 0;
    room.highlightCount = 0;
  });
}

/** A global profile fetched or set. */
export function applyProfile(state: StoreState, userId: string, profile: Json): StoreState {
  return { ...state, profiles: { ...state.profiles, [userId]: { ...(state.profiles[userId] ?? {}), ...profile } } };
}

/** Our own presence as just set (sync confirms it). */
export function applyPresence(state: StoreState, userId: string, presence: Presence): StoreState {
  return { ...state, presence: { ...state.presence, [userId]: presence } };
}

/** Global account data as just written (sync confirms it). */
export function applyAccountDataEvent(state: StoreState, type: string, content: Json): StoreState {
  return { ...state, accountData: { ...state.accountData, [type]: content } };
}

/**
 * Our reaction, shown before the server answers (`localId` until then). A duplicate from
 * sync is ignored (one reaction per key and sender), so the chip never counts us twice.
 */
export function addLocalReaction(state: StoreState, roomId: string, target: string, key: string, localId: string, now: number): StoreState {
  const sender = state.userId;
  if (!sender) return state;
  return withRoom(state, roomId, (room) => {
    const content = { "m.relates_to": { rel_type: "m.annotation", event_id: target, key } };
    addReaction(room.relations, { type: "m.reaction", content, sender, event_id: localId, origin_server_ts: now });
  });
}

/** The server accepted our reaction: remember its real id (to undo it later). */
export function settleLocalReaction(state: StoreState, roomId: string, localId: string, eventId: string): StoreState {
  return withRoom(state, roomId, (room) => renameReaction(room.relations, localId, eventId));
}

/** Take a reaction off the chips (a failed send, or an undo on its way). */
export function dropReaction(state: StoreState, roomId: string, reactionId: string): StoreState {
  return withRoom(state, roomId, (room) => removeReaction(room.relations, reactionId));
}
