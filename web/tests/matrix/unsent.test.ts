import { beforeEach, describe, expect, it } from "vitest";

import { retrySend, sendText } from "../../src/matrix/actions";
import { MatrixClient } from "../../src/matrix/client";
import type { WebSocketLike } from "../../src/matrix/sync";
import { RESTORED_ERROR } from "../../src/matrix/unsent";
import { FakeServer } from "./fakeServer";
import { joinedSync, msg } from "./events";

const R = "!r:h";
const session = { baseUrl: "https://hs", userId: "@me:h", accessToken: "T", deviceId: "D" };

class Socket implements WebSocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  send(): void {}
  close(): void {}
  push(body: unknown): void {
    this.onmessage?.({ data: JSON.stringify({ type: "sync", ...(body as object) }) });
  }
}

function page(server: FakeServer): { client: MatrixClient; socket: Socket } {
  const socket = new Socket();
  const client = new MatrixClient(session, { fetchImpl: server.fetch, webSocket: () => socket, storage: localStorage, now: () => 5 });
  client.start();
  socket.push(joinedSync("s1", { [R]: { timeline: { events: [msg("earlier")] } } }));
  return { client, socket };
}

describe("unsent messages across a reload", () => {
  beforeEach(() => localStorage.clear());

  it("keeps a failed message, brings it back after the next first sync, and retries it", async () => {
    let up = false;
    const server = new FakeServer().on(/\/send\//, () => (up ? { json: { event_id: "$ok" } } : { status: 503, json: {} }));
    const first = page(server);
    await sendText(first.client, R, { body: "typed before the crash" }).catch(() => undefined);
    const txnId = first.client.store.room(R)!.pending[0]!.txnId;
    expect(localStorage.getItem("concord.unsent.@me:h")).toContain("typed before the crash");
    first.client.stop(); // the page goes away

    const second = page(server);
    const echo = second.client.store.room(R)!.pending[0]!;
    expect(echo).toMatchObject({ txnId, status: "failed", error: RESTORED_ERROR, content: { body: "typed before the crash" } });
    up = true;
    expect(await retrySend(second.client, R, txnId)).toBe("$ok");
    second.socket.push(joinedSync("s2", { [R]: { timeline: { events: [msg("typed before the crash", { event_id: "$ok", sender: "@me:h", unsigned: { transaction_id: txnId } })] } } }));
    expect(second.client.store.room(R)!.pending).toEqual([]);
    expect(localStorage.getItem("concord.unsent.@me:h")).toBeNull();
  });

  it("does not bring back a message the server did get (its echo came with our txn id)", async () => {
    localStorage.setItem("concord.unsent.@me:h", JSON.stringify([{ roomId: R, txnId: "t9", type: "m.room.message", content: { body: "x" }, ts: 1 }]));
    const socket = new Socket();
    const client = new MatrixClient(session, { webSocket: () => socket, storage: localStorage });
    client.start();
    socket.push(joinedSync("s1", { [R]: { timeline: { events: [msg("x", { sender: "@me:h", unsigned: { transaction_id: "t9" } })] } } }));
    expect(client.store.room(R)!.pending).toEqual([]);
    expect(localStorage.getItem("concord.unsent.@me:h")).toBeNull();
  });

  it("forgets kept messages on logout", async () => {
    const server = new FakeServer().on(/\/send\//, () => ({ status: 503, json: {} })).on("POST /_matrix/client/v3/logout", () => ({ json: {} }));
    const { client } = page(server);
    await sendText(client, R, { body: "secret" }).catch(() => undefined);
    expect(localStorage.getItem("concord.unsent.@me:h")).not.toBeNull();
    await client.logout();
    expect(localStorage.getItem("concord.unsent.@me:h")).toBeNull();
  });
});
