// The voice signaling state machine (src/voice/connection.ts) against a fake SFU
// WebSocket: join, publish, subscribe, participants, mute/deafen, camera, refusals,
// reconnect, leave. Media pieces are fakes; the frames are those of sfu/media/signaling.py.

import { describe, expect, it } from "vitest";

import {
  VoiceConnection,
  type AudioOutput,
  type ConnectionDeps,
  type LocalTracks,
  type PublishPeer,
  type SubscribePeer,
  type WebSocketLike,
} from "../../src/voice/connection";
import { parseServerFrame, type SubscribedTrack } from "../../src/voice/protocol";
import { requestGrant, sfuUrlFrom } from "../../src/voice/focus";
import { callMembersOf } from "../../src/voice";
import type { RoomState } from "../../src/matrix/store";

class FakeSocket implements WebSocketLike {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  closedWith: number | null = null;
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code = 1000) {
    this.closedWith = code;
    this.readyState = 3;
  }
  // --- the server's side
  open() {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  frame(f: Record<string, unknown>) {
    this.onmessage?.({ data: JSON.stringify(f) } as MessageEvent);
  }
  drop(code: number, reason = "") {
    this.readyState = 3;
    this.onclose?.({ code, reason } as CloseEvent);
  }
  of(type: string) {
    return this.sent.filter((f) => f.type === type);
  }
}

class FakeTrack {
  enabled = true;
  stopped = false;
  listeners: Record<string, () => void> = {};
  constructor(readonly kind: string) {}
  stop() {
    this.stopped = true;
  }
  addEventListener(type: string, fn: () => void) {
    this.listeners[type] = fn;
  }
}

class FakePublisher implements PublishPeer {
  offers: string[][] = [];
  accepted: string[] = [];
  closed = false;
  async offer(tracks: LocalTracks) {
    const kinds = Object.keys(tracks);
    this.offers.push(kinds);
    const mids = { audio: "0", webcam: "1", screen: "2" } as const;
    return { sdp: `offer-${this.offers.length}`, tracks: kinds.map((k) => ({ mid: mids[k as keyof typeof mids], kind: k as "audio" })) };
  }
  async accept(sdp: string) {
    this.accepted.push(sdp);
  }
  close() {
    this.closed = true;
  }
}

class FakeSubscriber implements SubscribePeer {
  answered: SubscribedTrack[][] = [];
  closed = false;
  async answer(_sdp: string, tracks: SubscribedTrack[]) {
    this.answered.push(tracks);
    return { sdp: `answer-${this.answered.length}`, streams: new Map(tracks.map((t) => [t.mid, { id: t.track_id } as unknown as MediaStream])) };
  }
  close() {
    this.closed = true;
  }
}

class FakeAudio implements AudioOutput {
  deafened = false;
  playing: string[] = [];
  set(streams: Map<string, MediaStream>) {
    this.playing = [...streams.keys()];
  }
  setDeafened(d: boolean) {
    this.deafened = d;
  }
  close() {
    this.playing = [];
  }
}

const flush = async (times = 10) => {
  for (let i = 0; i < times; i++) await Promise.resolve();
};

function setup(opts: { micFails?: boolean; grantFails?: Error } = {}) {
  const sockets: FakeSocket[] = [];
  const publishers: FakePublisher[] = [];
  const subscribers: FakeSubscriber[] = [];
  const audio = new FakeAudio();
  const mic = new FakeTrack("audio");
  const cams: FakeTrack[] = [];
  let grants = 0;
  const sleeps: number[] = [];
  const deps: ConnectionDeps = {
    grant: async () => {
      if (opts.grantFails) throw opts.grantFails;
      grants++;
      return { jwt: `jwt-${grants}`, url: "ws://sfu/ws", expiresAtMs: 0 };
    },
    webSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    publisher: () => {
      const p = new FakePublisher();
      publishers.push(p);
      return p;
    },
    subscriber: () => {
      const s = new FakeSubscriber();
      subscribers.push(s);
      return s;
    },
    devices: {
      microphone: async () => {
        if (opts.micFails) throw new Error("Permission denied");
        return mic as unknown as MediaStreamTrack;
      },
      camera: async () => {
        const t = new FakeTrack("video");
        cams.push(t);
        return t as unknown as MediaStreamTrack;
      },
      screen: async () => new FakeTrack("video") as unknown as MediaStreamTrack,
    },
    audio: () => audio,
    speaking: () => ({ set: () => undefined, close: () => undefined }),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    timeoutMs: 1000,
  };
  const conn = new VoiceConnection("!voice:x", "@me:x", deps);
  return { conn, sockets, publishers, subscribers, audio, mic, cams, sleeps, grants: () => grants };
}

/** Drive a join through: socket opens, `joined`, the first publish answered. */
async function joined(t: ReturnType<typeof setup>, socketIndex = 0) {
  await flush();
  const ws = t.sockets[socketIndex]!;
  ws.open();
  expect(ws.sent[0]).toEqual({ type: "join", token: `jwt-${socketIndex + 1}` });
  ws.frame({ type: "joined", session_id: `s${socketIndex}`, user_id: "@me:x", room_id: "!voice:x" });
  await flush();
  return ws;
}

describe("VoiceConnection", () => {
  it("joins: sends the JWT first, publishes the microphone, connects", async () => {
    const t = setup();
    const joining = t.conn.join();
    expect(t.conn.status.value).toBe("connecting");
    const ws = await joined(t);
    expect(ws.of("publish")).toEqual([{ type: "publish", sdp: "offer-1", tracks: [{ mid: "0", kind: "audio" }] }]);
    ws.frame({ type: "publish_answer", sdp: "answer-sdp" });
    await joining;
    expect(t.conn.status.value).toBe("connected");
    expect(t.conn.sessionId.value).toBe("s0");
    expect(t.publishers[0]!.accepted).toEqual(["answer-sdp"]);
  });

  it("answers subscribe offers and maps each mid to its person and kind", async () => {
    const t = setup();
    const joining = t.conn.join();
    const ws = await joined(t);
    ws.frame({ type: "publish_answer", sdp: "a" });
    await joining;
    const tracks = [
      { mid: "0", user_id: "@bob:x", session_id: "b", kind: "audio", track_id: "b-0" },
      { mid: "1", user_id: "@bob:x", session_id: "b", kind: "webcam", track_id: "b-1" },
    ];
    ws.frame({ type: "subscribe", sdp: "offer", tracks });
    await flush();
    expect(ws.of("subscribe_answer")).toEqual([{ type: "subscribe_answer", sdp: "answer-1" }]);
    expect(t.conn.remote.value.map((r) => [r.userId, r.kind, r.trackId])).toEqual([
      ["@bob:x", "audio", "b-0"],
      ["@bob:x", "webcam", "b-1"],
    ]);
    expect(t.audio.playing).toEqual(["@bob:x|0"]);
    // Bob leaves: the participant list drops his tracks at once.
    ws.frame({ type: "participants", participants: [{ user_id: "@me:x", session_id: "s0", muted: false, deafened: false, server_muted: false, tracks: [] }] });
    expect(t.conn.remote.value).toEqual([]);
    expect(t.conn.participants.value.map((p) => p.user_id)).toEqual(["@me:x"]);
  });

  it("mutes and deafens locally and tells the SFU; deafen mutes, undeafen restores", async () => {
    const t = setup();
    const joining = t.conn.join();
    const ws = await joined(t);
    ws.frame({ type: "publish_answer", sdp: "a" });
    await joining;
    t.conn.setMuted(true);
    expect(t.mic.enabled).toBe(false);
    expect(ws.of("mute").at(-1)).toEqual({ type: "mute", muted: true });
    t.conn.setMuted(false);
    t.conn.setDeafened(true);
    expect(t.audio.deafened).toBe(true);
    expect(t.conn.muted.value).toBe(true);
    expect(ws.of("deafen")).toEqual([{ type: "deafen", deafened: true }]);
    t.conn.setDeafened(false);
    expect(t.conn.muted.value).toBe(false);
    expect(t.mic.enabled).toBe(true);
    t.conn.moderateMute("@bob:x", true);
    expect(ws.of("moderate_mute")).toEqual([{ type: "moderate_mute", user_id: "@bob:x", muted: true }]);
  });

  it("publishes the whole track list again when the camera goes on and off", async () => {
    const t = setup();
    const joining = t.conn.join();
    const ws = await joined(t);
    ws.frame({ type: "publish_answer", sdp: "a1" });
    await joining;
    const on = t.conn.setCamera(true);
    await flush();
    expect(ws.of("publish").at(-1)).toMatchObject({ tracks: [{ mid: "0", kind: "audio" }, { mid: "1", kind: "webcam" }] });
    ws.frame({ type: "publish_answer", sdp: "a2" });
    await on;
    expect(t.conn.local.value.webcam).toBeDefined();
    const off = t.conn.setCamera(false);
    await flush();
    expect(t.cams[0]!.stopped).toBe(true);
    expect(ws.of("publish").at(-1)).toMatchObject({ tracks: [{ mid: "0", kind: "audio" }] });
    ws.frame({ type: "publish_answer", sdp: "a3" });
    await off;
    expect(t.publishers[0]!.accepted).toEqual(["a1", "a2", "a3"]);
  });

  it("joins listening only without a microphone, and says so", async () => {
    const t = setup({ micFails: true });
    const joining = t.conn.join();
    const ws = await joined(t);
    await joining;
    expect(t.conn.status.value).toBe("connected");
    expect(ws.of("publish")).toEqual([]); // nothing to publish
    expect(t.conn.error.value).toMatch(/No microphone/);
  });

  it("a refused join fails with the SFU's words and does not retry", async () => {
    const t = setup();
    const joining = t.conn.join();
    await flush();
    const ws = t.sockets[0]!;
    ws.open();
    ws.frame({ type: "error", errcode: "M_FORBIDDEN", error: "You are not in this room" });
    ws.drop(4403);
    await joining;
    expect(t.conn.status.value).toBe("failed");
    expect(t.conn.error.value).toBe("You are not in this room");
    expect(t.sockets).toHaveLength(1);
    expect(t.mic.stopped).toBe(true); // a failed call does not keep the microphone
  });

  it("a failed grant fails with its message", async () => {
    const t = setup({ grantFails: new Error("You can't join this voice channel.") });
    await t.conn.join();
    expect(t.conn.status.value).toBe("failed");
    expect(t.conn.error.value).toBe("You can't join this voice channel.");
  });

  it("reconnects after a dropped socket with a new JWT and publishes again", async () => {
    const t = setup();
    const joining = t.conn.join();
    const ws = await joined(t);
    ws.frame({ type: "publish_answer", sdp: "a" });
    await joining;
    ws.frame({ type: "subscribe", sdp: "o", tracks: [] });
    await flush();
    ws.drop(1006);
    expect(t.conn.status.value).toBe("reconnecting");
    expect(t.publishers[0]!.closed && t.subscribers[0]!.closed).toBe(true);
    const ws2 = await joined(t, 1);
    expect(ws2.of("publish")).toHaveLength(1);
    ws2.frame({ type: "publish_answer", sdp: "b" });
    await flush();
    expect(t.conn.status.value).toBe("connected");
    expect(t.publishers).toHaveLength(2);
    expect(t.sleeps).toEqual([500]);
  });

  it("leave sends leave, closes the socket and releases the microphone", async () => {
    const t = setup();
    const joining = t.conn.join();
    const ws = await joined(t);
    ws.frame({ type: "publish_answer", sdp: "a" });
    await joining;
    t.conn.leave();
    expect(ws.of("leave")).toHaveLength(1);
    expect(ws.closedWith).toBe(1000);
    expect(t.mic.stopped).toBe(true);
    expect(t.conn.status.value).toBe("idle");
    ws.drop(1000); // a late close event changes nothing
    expect(t.conn.status.value).toBe("idle");
  });

  it("times out when the SFU never says joined", async () => {
    const t = setup();
    const joining = t.conn.join();
    await flush();
    t.sockets[0]!.open();
    await joining;
    expect(t.conn.status.value).toBe("failed");
    expect(t.conn.error.value).toBe("The voice server did not answer.");
  });
});

describe("frames and discovery", () => {
  it("parses only well-formed frames", () => {
    expect(parseServerFrame("nope")).toBeNull();
    expect(parseServerFrame('{"type":"joined"}')).toBeNull();
    expect(parseServerFrame('{"type":"surprise"}')).toBeNull();
    const f = parseServerFrame('{"type":"participants","participants":[{"user_id":"@a:x","session_id":"s","muted":true,"tracks":[{"kind":"webcam","track_id":"t"},{"kind":"bogus"}]},{"bad":1}]}');
    expect(f).toEqual({
      type: "participants",
      participants: [{ user_id: "@a:x", session_id: "s", muted: true, deafened: false, server_muted: false, tracks: [{ kind: "webcam", track_id: "t" }] }],
    });
  });

  it("finds the SFU in the well-known and trades an OpenID token for a JWT", async () => {
    expect(sfuUrlFrom({ "org.matrix.msc4143.rtc_foci": [{ type: "livekit", url: "https://lk" }, { type: "im.concord.sfu", url: "http://127.0.0.1:8090/" }] })).toBe("http://127.0.0.1:8090");
    expect(sfuUrlFrom({})).toBeNull();
    const calls: [string, RequestInit | undefined][] = [];
    const fetchImpl = async (url: string, init?: RequestInit) => {
      calls.push([url, init]);
      if (url.endsWith("/openid/request_token")) return new Response(JSON.stringify({ access_token: "oid", token_type: "Bearer", matrix_server_name: "x", expires_in: 3600 }));
      return new Response(JSON.stringify({ jwt: "J", url: "ws://sfu/ws", expires_at_ms: 5 }));
    };
    const grant = await requestGrant(fetchImpl, { baseUrl: "http://hs", userId: "@me:x", accessToken: "tok", deviceId: "D" }, "http://sfu", "!r:x");
    expect(grant).toEqual({ jwt: "J", url: "ws://sfu/ws", expiresAtMs: 5 });
    expect(calls[0]![0]).toBe("http://hs/_matrix/client/v3/user/%40me%3Ax/openid/request_token");
    expect(JSON.parse(String(calls[1]![1]!.body))).toEqual({ room_id: "!r:x", device_id: "D", openid_token: { access_token: "oid", token_type: "Bearer", matrix_server_name: "x", expires_in: 3600 } });
  });

  it("says in plain words when the SFU refuses", async () => {
    const fetchImpl = async (url: string) =>
      url.endsWith("/token")
        ? new Response(JSON.stringify({ errcode: "M_FORBIDDEN", error: "not joined" }), { status: 403 })
        : new Response(JSON.stringify({ access_token: "oid", matrix_server_name: "x" }));
    await expect(requestGrant(fetchImpl, { baseUrl: "http://hs", userId: "@me:x", accessToken: "t", deviceId: "D" }, "http://sfu", "!r:x")).rejects.toThrow(
      "You can't join this voice channel. (not joined)",
    );
  });

  it("lists who is in a channel from non-empty call.member state", () => {
    const ev = (key: string, content: Record<string, unknown>) => ({ type: "org.matrix.msc3401.call.member", state_key: key, content, sender: "@sfu:x", event_id: key, origin_server_ts: 0 });
    const room = {
      state: {
        "org.matrix.msc3401.call.member": {
          "_@bob:x_D1": ev("_@bob:x_D1", { device_id: "D1", "im.concord.user_id": "@bob:x", "im.concord.tracks": ["audio", "webcam"], focus_active: { type: "im.concord.sfu", url: "http://sfu" } }),
          "_@gone:x_D2": ev("_@gone:x_D2", {}),
        },
      },
    } as unknown as RoomState;
    expect(callMembersOf(room)).toEqual([{ userId: "@bob:x", deviceId: "D1", tracks: ["audio", "webcam"], focusUrl: "http://sfu" }]);
  });
});
