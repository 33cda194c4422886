// Message actions: send with local echo and retry, edit, delete, react, paginate, typing,
// read receipts (spec: client-server "Sending events to a room", "Redactions",
// "Typing notifications", "Receipts", "Fully read markers", "/messages").

import type { MatrixClient } from "./client";
import { editContent, reactionContent, textContent, type TextMessage } from "./content";
import { errorMessage, path } from "./http";
import {
  addEcho,
  addLocalReaction,
  applyMessages,
  applyOwnReceipt,
  dropEcho,
  dropReaction,
  echoFailed,
  echoSent,
  settleLocalReaction,
} from "./reduce";
import type { Json, MessagesResponse } from "./types";

let txnCounter = 0;

/** A transaction id unique to this device (spec: idempotent per access token and txn id). */
export function newTxnId(now: number = Date.now()): string {
  txnCounter += 1;
  const random = typeof crypto !== "undefined" && "randomUUID" in crypto ? crypto.randomUUID().slice(0, 8) : Math.random().toString(36).slice(2, 10);
  return `c${now.toString(36)}.${txnCounter}.${random}`;
}

/** PUT an event with a txn id; no local echo. Returns the event id. */
export async function sendRaw(client: MatrixClient, roomId: string, type: string, content: Json, txnId = newTxnId()): Promise<string> {
  const reply = await client.http.put<{ event_id: string }>(
    path`/_matrix/client/v3/rooms/${roomId}/send/${type}/${txnId}`,
    content,
  );
  return reply.event_id;
}

/**
 * Send with a local echo: the message shows at once as "sending", then "sent", and is
 * replaced by the real event when sync brings it. On failure it stays, "failed", with
 * the error in plain words; `retrySend` sends it again under the same txn id, so the
 * server never stores it twice.
 */
export async function sendWithEcho(client: MatrixClient, roomId: string, type: string, content: Json, txnId = newTxnId(client.now())): Promise<string> {
  client.store.update((s) => addEcho(s, roomId, { txnId, type, content, status: "sending", ts: client.now() }));
  try {
    const eventId = await sendRaw(client, roomId, type, content, txnId);
    client.store.update((s) => echoSent(s, roomId, txnId, eventId));
    return eventId;
  } catch (err) {
    client.store.update((s) => echoFailed(s, roomId, txnId, errorMessage(err)));
    throw err;
  }
}

export function sendText(client: MatrixClient, roomId: string, msg: TextMessage): Promise<string> {
  return sendWithEcho(client, roomId, "m.room.message", textContent(msg));
}

/** Send a failed message again (same content, same txn id). */
export async function retrySend(client: MatrixClient, roomId: string, txnId: string): Promise<string> {
  const echo = client.store.room(roomId)?.pending.find((p) => p.txnId === txnId);
  if (!echo) throw new Error("That message is no longer waiting to be sent.");
  if (echo.content["url"] === undefined && pendingFiles.get(client)?.has(txnId)) {
    // An attachment whose upload failed: upload again first (media.ts registers it).
    return pendingFiles.get(client)!.get(txnId)!();
  }
  return sendWithEcho(client, roomId, echo.type, echo.content, txnId);
}

/** Retries of attachments whose upload failed, by txn id (media.ts fills it). */
export const pendingFiles = new WeakMap<MatrixClient, Map<string, () => Promise<string>>>();

/** Give up on a failed message (its text is returned so the composer can take it back). */
export function discardSend(client: MatrixClient, roomId: string, txnId: string): Json | undefined {
  const echo = client.store.room(roomId)?.pending.find((p) => p.txnId === txnId);
  client.store.update((s) => dropEcho(s, roomId, txnId));
  pendingFiles.get(client)?.delete(txnId);
  return echo?.content;
}

/** Edit one of our messages. `previousMentions`: users the original already notified. */
export function editMessage(client: MatrixClient, roomId: string, eventId: string, next: TextMessage, previousMentions: string[] = []): Promise<string> {
  return sendRaw(client, roomId, "m.room.message", editContent(eventId, next, previousMentions));
}

/** Delete (redact) an event: ours, or anyone's with the `redact` power level. */
export async function redact(client: MatrixClient, roomId: string, eventId: string, reason?: string): Promise<string> {
  const body: Json = reason ? { reason } : {};
  const reply = await client.http.put<{ event_id: string }>(
    path`/_matrix/client/v3/rooms/${roomId}/redact/${eventId}/${newTxnId(client.now())}`,
    body,
  );
  return reply.event_id;
}

export function react(client: MatrixClient, roomId: string, eventId: string, key: string): Promise<string> {
  return sendRaw(client, roomId, "m.reaction", reactionContent(eventId, key));
}

/**
 * Add our `key` reaction, or remove it if we already reacted with it. The chip changes at
 * once; if the server refuses, it changes back and the error is thrown.
 */
export async function toggleReaction(client: MatrixClient, roomId: string, eventId: string, key: string): Promise<void> {
  const room = client.store.room(roomId);
  const mine = room?.relations.reactions[eventId]?.[key]?.[client.userId];
  if (mine) {
    const ref = room!.relations.reactionIndex[mine];
    client.store.update((s) => dropReaction(s, roomId, mine));
    if (mine.startsWith("~")) return; // never reached the server
    try {
      await redact(client, roomId, mine);
    } catch (err) {
      if (ref) {
        client.store.update((s) => addLocalReaction(s, roomId, ref.target, ref.key, mine, client.now()));
      }
      throw err;
    }
    return;
  }
  const txnId = newTxnId(client.now());
  const localId = `~${txnId}`;
  client.store.update((s) => addLocalReaction(s, roomId, eventId, key, localId, client.now()));
  try {
    const real = await sendRaw(client, roomId, "m.reaction", reactionContent(eventId, key), txnId);
    if (!client.store.room(roomId)?.relations.reactionIndex[localId]) {
      // Undone while on its way: undo it on the server too.
      await redact(client, roomId, real);
      return;
    }
    client.store.update((s) => settleLocalReaction(s, roomId, localId, real));
  } catch (err) {
    client.store.update((s) => dropReaction(s, roomId, localId));
    throw err;
  }
}

const paginating = new WeakMap<MatrixClient, Set<string>>();

/**
 * Load an older page of a room (GET /messages, dir=b, from the room's prev_batch).
 * Returns false when there is nothing more (the start of the room) or a page is already
 * being loaded.
 */
export async function paginateBack(client: MatrixClient, roomId: string, limit = 30): Promise<boolean> {
  const room = client.store.room(roomId);
  if (!room || room.atStart) return false;
  const busy = paginating.get(client) ?? new Set<string>();
  paginating.set(client, busy);
  if (busy.has(roomId)) return false;
  busy.add(roomId);
  try {
    const page = await client.http.get<MessagesResponse>(path`/_matrix/client/v3/rooms/${roomId}/messages`, {
      dir: "b",
      from: room.prevBatch ?? undefined,
      limit,
      filter: JSON.stringify({ lazy_load_members: true }),
    });
    client.store.update((s) => applyMessages(s, roomId, page));
    return !client.store.room(roomId)?.atStart;
  } finally {
    busy.delete(roomId);
  }
}

/** Tell the room we are (not) typing (spec: PUT /rooms/{roomId}/typing/{userId}). */
export async function setTyping(client: MatrixClient, roomId: string, typing: boolean, timeoutMs = 15_000): Promise<void> {
  const body: Json = typing ? { typing: true, timeout: timeoutMs } : { typing: false };
  await client.http.put(path`/_matrix/client/v3/rooms/${roomId}/typing/${client.userId}`, body);
}

/** Mark a room read up to `eventId` (or its latest event): read receipt + fully-read marker. */
export async function markRead(client: MatrixClient, roomId: string, eventId?: string): Promise<void> {
  const room = client.store.room(roomId);
  const target = eventId ?? room?.timeline.at(-1)?.event_id;
  if (!target) return;
  if (room?.receipts[client.userId]?.eventId === target && room.notificationCount === 0) return;
  client.store.update((s) => applyOwnReceipt(s, roomId, target, client.now()));
  await client.http.post(path`/_matrix/client/v3/rooms/${roomId}/read_markers`, {
    "m.fully_read": target,
    "m.read": target,
  });
}
