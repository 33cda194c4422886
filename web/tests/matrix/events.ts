// Hand-written events and sync bodies in the shapes the spec gives (client-server "Syncing").

import type { Json, MatrixEvent, SyncResponse } from "../../src/matrix/types";

let counter = 0;

export function ev(type: string, content: Json, extra: Partial<MatrixEvent> = {}): MatrixEvent {
  counter += 1;
  return {
    type,
    content,
    sender: "@alice:h",
    event_id: `$e${counter}`,
    origin_server_ts: 1_000 + counter,
    ...extra,
  };
}

export function stateEv(type: string, stateKey: string, content: Json, extra: Partial<MatrixEvent> = {}): MatrixEvent {
  return ev(type, content, { state_key: stateKey, ...extra });
}

export function msg(body: string, extra: Partial<MatrixEvent> = {}): MatrixEvent {
  return ev("m.room.message", { msgtype: "m.text", body }, extra);
}

export function joinedSync(next: string, rooms: Record<string, Json>, extra: Partial<SyncResponse> = {}): SyncResponse {
  return { next_batch: next, rooms: { join: rooms as never }, ...extra };
}
