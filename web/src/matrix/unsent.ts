// Messages that were not sent survive a reload: local echoes still "sending" or "failed"
// are kept in localStorage and come back, failed, after the next first sync, so nothing a
// user typed is lost (issue 10). A retry reuses the txn id, and the same access token
// makes the server drop a duplicate (spec: "Transaction identifiers").

import { addEcho } from "./reduce";
import type { StoreState } from "./store";
import type { Json } from "./types";

export interface UnsentMessage {
  roomId: string;
  txnId: string;
  type: string;
  content: Json;
  ts: number;
}

export const RESTORED_ERROR = "Not sent: the page was closed before it went out.";

function key(userId: string): string {
  return `concord.unsent.${userId}`;
}

/**
 * The local echoes the server has not accepted. Attachments still waiting for their
 * upload have no URL yet and cannot be kept (the file is gone with the page).
 */
export function unsentOf(s: StoreState): UnsentMessage[] {
  const out: UnsentMessage[] = [];
  for (const room of Object.values(s.rooms)) {
    for (const echo of room.pending) {
      if (echo.status === "sent") continue;
      const isFile = ["m.image", "m.audio", "m.video", "m.file"].includes(String(echo.content["msgtype"]));
      if (isFile && typeof echo.content["url"] !== "string") continue;
      out.push({ roomId: room.roomId, txnId: echo.txnId, type: echo.type, content: echo.content, ts: echo.ts });
    }
  }
  return out;
}

export function loadUnsent(storage: Storage | null, userId: string): UnsentMessage[] {
  const raw = storage?.getItem(key(userId));
  if (!raw) return [];
  try {
    const list = JSON.parse(raw) as unknown;
    if (!Array.isArray(list)) return [];
    return list.filter(
      (m): m is UnsentMessage =>
        !!m &&
        typeof m.roomId === "string" &&
        typeof m.txnId === "string" &&
        typeof m.type === "string" &&
        !!m.content &&
        typeof m.content === "object" &&
        typeof m.ts === "number",
    );
  } catch {
    return [];
  }
}

/** Write the list (or remove the key when empty); returns what was written, for change checks. */
export function saveUnsent(storage: Storage | null, userId: string, list: UnsentMessage[]): string {
  const text = list.length ? JSON.stringify(list) : "";
  try {
    if (text) storage?.setItem(key(userId), text);
    else storage?.removeItem(key(userId));
  } catch {
    // Storage full or disabled: the messages stay in memory for this session.
  }
  return text;
}

/** Put kept messages back as failed echoes in joined rooms; `left`: those of other rooms. */
export function restoreUnsent(s: StoreState, list: UnsentMessage[]): { state: StoreState; left: UnsentMessage[] } {
  let state = s;
  const left: UnsentMessage[] = [];
  for (const m of list) {
    const room = state.rooms[m.roomId];
    if (!room || room.membership !== "join") {
      left.push(m);
      continue;
    }
    if (room.pending.some((p) => p.txnId === m.txnId)) continue;
    // It did reach the server (the answer was lost with the page): nothing to restore.
    if (room.timeline.some((e) => e.unsigned?.transaction_id === m.txnId)) continue;
    state = addEcho(state, m.roomId, { txnId: m.txnId, type: m.type, content: m.content, status: "failed", error: RESTORED_ERROR, ts: m.ts });
  }
  return { state, left };
}
