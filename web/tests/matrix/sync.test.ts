import { describe, expect, it } from "vitest";

import { MatrixClient } from "../../src/matrix/client";
import { Http } from "../../src/matrix/http";
import { SYNC_FILTER, SyncEngine, WS_PATH, type WebSocketLike } from "../../src/matrix/sync";
import type { SyncResponse } from "../../src/matrix/types";
import { FakeServer } from "./fakeServer";
import { joinedSync, msg } from "./events";

class FakeSocket implements WebSocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  sent: unknown[] = [];
  closed = false;
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.closed = true;
  }
  push(message: unknown): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code = 1006): void {
    this.onclose?.({ code });
  }
}

function harness(server: FakeServer = new FakeServer()) {
  const sockets: FakeSocket[] = [];
  const bodies: SyncResponse[] = [];
  const statuses: string[] = [];
  let loggedOut = 0;
  const sleeps: number[] = [];
  const engine = new SyncEngine({
    http: new Http("http://hs.test:8008", "tok", server.fetch),
    webSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    sleep: async (ms) => void sleeps.push(ms),
    callbacks: {
      onSync: (b) => void bodies.push(b),
      onStatus: (status, transport) => void statuses.push(`${status}/${transport}`),
      onLoggedOut: () => void loggedOut++,
    },
  });
  return { engine, sockets, bodies, statuses, sleeps, server, loggedOut: () => loggedOut };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("SyncEngine over the WebSocket", () => {
  it("connects with the token, sends one sync message, applies pushed deltas and tracks since", () => {
    const h = harness();
    h.engine.start();
    const ws = h.sockets[0]!;
    expect(ws.url).toBe(`ws://hs.test:8008${WS_PATH}?access_token=tok`);
    ws.onopen?.({});
    expect(ws.sent).toEqual([{ type: "sync", since: null, filter: SYNC_FILTER }]);
    ws.push({ type: "sync", next_batch: "s1", rooms: {} });
    ws.push({ type: "sync", next_batch: "s2", rooms: { join: { "!r:h": { timeline: { events: [] } } } } });
    expect(h.bodies.map((b) => b.next_batch)).toEqual(["s1", "s2"]);
    expect("type" in h.bodies[0]!).toBe(false);
    expect(h.engine.since).toBe("s2");
    expect(h.statuses.at(-1)).toBe("syncing/ws");
  });

  it("reconnects after a drop with backoff and resumes from the last next_batch", async () => {
    const h = harness();
    h.engine.start();
    h.sockets[0]!.onopen?.({});
    h.sockets[0]!.push({ type: "sync", next_batch: "s5" });
    h.sockets[0]!.drop();
    await flush();
    expect(h.sleeps).toEqual([1000]);
    const second = h.sockets[1]!;
    second.onopen?.({});
    expect(second.sent).toEqual([{ type: "sync", since: "s5", filter: SYNC_FILTER }]);
    expect(h.engine.transport).toBe("ws");
  });

  it("falls back to long-polling /sync when the socket never works (a plain Synapse)", async () => {
    const server = new FakeServer();
    let n = 0;
    const h = harness(server);
    server.on("GET /_matrix/client/v3/sync", (call) => {
      n += 1;
      if (n >= 2) h.engine.stop();
      return { json: { next_batch: `p${n}`, since: call.query.get("since"), timeout: call.query.get("timeout") } };
    });
    h.engine.start();
    h.sockets[0]!.drop();
    for (let i = 0; i < 20 && h.bodies.length < 2; i++) await flush();
    expect(h.engine.transport).toBe("poll");
    expect(h.bodies.map((b) => b.next_batch)).toEqual(["p1", "p2"]);
    const polls = server.callsTo("/sync");
    expect(polls[0]!.query.get("since")).toBeNull();
    expect(polls[0]!.query.get("timeout")).toBe("0");
    expect(polls[1]!.query.get("since")).toBe("p1");
    expect(polls[1]!.query.get("timeout")).toBe("30000");
    expect(JSON.parse(polls[0]!.query.get("filter")!)).toEqual(SYNC_FILTER);
  });

  it("stops and reports logout on M_UNKNOWN_TOKEN, from the socket or the poll", async () => {
    const h = harness();
    h.engine.start();
    h.sockets[0]!.push({ type: "error", errcode: "M_UNKNOWN_TOKEN", error: "gone" });
    expect(h.loggedOut()).toBe(1);
    expect(h.engine.isRunning).toBe(false);
    expect(h.sockets[0]!.closed).toBe(true);

    const server = new FakeServer().on("GET /_matrix/client/v3/sync", () => ({ status: 401, json: { errcode: "M_UNKNOWN_TOKEN" } }));
    const p = harness(server);
    p.engine.start();
    p.sockets[0]!.drop();
    for (let i = 0; i < 20 && p.loggedOut() === 0; i++) await flush();
    expect(p.loggedOut()).toBe(1);
  });

  it("backs off on poll errors and keeps going", async () => {
    const server = new FakeServer();
    let n = 0;
    const h = harness(server);
    server.on("GET /_matrix/client/v3/sync", () => {
      n += 1;
      if (n < 3) return { status: 502, json: {} };
      h.engine.stop();
      return { json: { next_batch: "ok" } };
    });
    h.engine.start();
    h.sockets[0]!.drop();
    for (let i = 0; i < 40 && h.bodies.length < 1; i++) await flush();
    expect(h.sleeps).toEqual([1000, 2000]);
    expect(h.bodies.map((b) => b.next_batch)).toEqual(["ok"]);
  });
});

describe("SyncEngine restarts", () => {
  it("a reconnect scheduled before stop() does not open a second socket after start()", async () => {
    const sockets: FakeSocket[] = [];
    let wake: () => void = () => {};
    const engine = new SyncEngine({
      http: new Http("http://hs", "t"),
      webSocket: (url) => (sockets.push(new FakeSocket(url)), sockets.at(-1)!),
      sleep: () => new Promise<void>((resolve) => (wake = resolve)),
      callbacks: { onSync: () => {}, onStatus: () => {}, onLoggedOut: () => {} },
    });
    engine.start();
    sockets[0]!.push({ type: "sync", next_batch: "s1" });
    sockets[0]!.drop(); // a reconnect is now waiting on its backoff
    engine.stop();
    engine.start(); // opens socket #2 at once
    expect(sockets).toHaveLength(2);
    wake(); // the old backoff ends
    await flush();
    expect(sockets).toHaveLength(2);
  });
});

describe("MatrixClient", () => {
  it("feeds sync bodies into the store and logs out when the token dies", () => {
    const sockets: FakeSocket[] = [];
    const client = new MatrixClient(
      { baseUrl: "https://hs", userId: "@me:h", accessToken: "T", deviceId: "D" },
      { webSocket: (url) => (sockets.push(new FakeSocket(url)), sockets.at(-1)!), storage: localStorage, now: () => 0 },
    );
    client.start();
    expect(localStorage.getItem("concord.session")).toContain("@me:h");
    sockets[0]!.push({ type: "sync", ...joinedSync("s1", { "!r:h": { timeline: { events: [msg("hi")] } } }) });
    expect(client.store.state.value.rooms["!r:h"]!.timeline[0]!.content["body"]).toBe("hi");
    expect(client.store.syncStatus.value).toBe("syncing");
    sockets[0]!.drop(4401);
    expect(client.store.loggedOut.value).toBe(true);
    expect(localStorage.getItem("concord.session")).toBeNull();
  });

  it("builds authenticated media URLs only for mxc URIs", () => {
    const client = new MatrixClient({ baseUrl: "https://hs", userId: "@me:h", accessToken: "T", deviceId: "D" }, { webSocket: null });
    expect(client.mediaUrl("mxc://h/abc")).toBe("https://hs/_matrix/client/v1/media/download/h/abc?access_token=T");
    expect(client.mediaUrl("mxc://h/abc", { width: 32, height: 32, method: "crop" })).toBe(
      "https://hs/_matrix/client/v1/media/thumbnail/h/abc?width=32&height=32&method=crop&access_token=T",
    );
    expect(client.mediaUrl("https://evil/x")).toBeNull();
    expect(client.mediaUrl(undefined)).toBeNull();
  });
});
