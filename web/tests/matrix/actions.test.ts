import { describe, expect, it } from "vitest";

import {
  discardSend,
  fetchPresence,
  markRead,
  moveCategory,
  moveChannel,
  paginateBack,
  retrySend,
  sendFile,
  sendText,
  setCategoryCollapsed,
  setMemberRoles,
  setMuted,
  setStatus,
  toggleReaction,
} from "../../src/matrix/actions";
import { MatrixClient } from "../../src/matrix/client";
import { MatrixError } from "../../src/matrix/http";
import { applySync } from "../../src/matrix/reduce";
import { collapsedCategories, isMuted } from "../../src/matrix/views";
import { G, TEXT, USER, guildStore } from "./guildFixture";
import { FakeServer, type Call } from "./fakeServer";
import { ev, joinedSync, msg } from "./events";

function clientFor(server: FakeServer): MatrixClient {
  const client = new MatrixClient(
    { baseUrl: "https://hs", userId: USER, accessToken: "T", deviceId: "D" },
    { fetchImpl: server.fetch, webSocket: null, storage: null, now: () => 1_000 },
  );
  client.store.update(() => guildStore(USER));
  return client;
}

const txnOf = (call: Call) => call.path.split("/").at(-1)!;

describe("sending", () => {
  it("keeps a failed message and retries it under the same transaction id", async () => {
    const server = new FakeServer();
    let up = false;
    server.on(/PUT https:\/\/hs\/_matrix\/client\/v3\/rooms\/.*\/send\/m.room.message\/.*/, () =>
      up ? { json: { event_id: "$new" } } : { status: 502, json: {} },
    );
    const client = clientFor(server);
    const err = await sendText(client, TEXT, { body: "don't lose me" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MatrixError);
    const [echo] = client.store.room(TEXT)!.pending;
    expect(echo).toMatchObject({ status: "failed", content: { body: "don't lose me" } });
    expect(echo!.error).toMatch(/server had a problem/);

    up = true;
    expect(await retrySend(client, TEXT, echo!.txnId)).toBe("$new");
    const sends = server.callsTo("/send/m.room.message/");
    expect(sends.map(txnOf)).toEqual([echo!.txnId, echo!.txnId]);
    expect(sends[1]!.body).toEqual(sends[0]!.body);
    expect(client.store.room(TEXT)!.pending[0]).toMatchObject({ status: "sent", eventId: "$new" });

    // Sync brings it back: the echo gives way to the event.
    client.store.update((s) => applySync(s, joinedSync("s9", { [TEXT]: { timeline: { events: [msg("don't lose me", { event_id: "$new", sender: USER, unsigned: { transaction_id: echo!.txnId } })] } } }), 0));
    expect(client.store.room(TEXT)!.pending).toEqual([]);
  });

  it("gives the text back when a failed message is discarded", async () => {
    const server = new FakeServer().on(/\/send\//, () => ({ status: 403, json: { errcode: "M_FORBIDDEN", error: "no" } }));
    const client = clientFor(server);
    await sendText(client, TEXT, { body: "words" }).catch(() => undefined);
    const txn = client.store.room(TEXT)!.pending[0]!.txnId;
    expect(client.store.room(TEXT)!.pending[0]!.error).toBe("You don't have permission to do that.");
    expect(discardSend(client, TEXT, txn)).toMatchObject({ body: "words" });
    expect(client.store.room(TEXT)!.pending).toEqual([]);
  });

  it("toggles a reaction: shown at once, sent as m.reaction, then undone by redacting our own", async () => {
    let answer: (v: { json: unknown }) => void = () => {};
    const server = new FakeServer()
      .on(/\/send\/m.reaction\//, () => new Promise((resolve) => (answer = resolve)))
      .on(/\/redact\//, () => ({ json: { event_id: "$red" } }));
    const client = clientFor(server);
    const target = client.store.room(TEXT)!.timeline[0]!.event_id;
    const chips = () => client.store.room(TEXT)!.relations.reactions[target]?.["🎉"];
    const sending = toggleReaction(client, TEXT, target, "🎉");
    expect(Object.keys(chips()!)).toEqual([USER]); // before the server answered
    await Promise.resolve();
    await Promise.resolve();
    expect(server.calls[0]!.body).toEqual({ "m.relates_to": { rel_type: "m.annotation", event_id: target, key: "🎉" } });
    // Sync brings the reaction before the PUT answers: still counted once.
    const reaction = ev("m.reaction", server.calls[0]!.body as never, { event_id: "$r", sender: USER });
    client.store.update((s) => applySync(s, joinedSync("s2", { [TEXT]: { timeline: { events: [reaction] } } }), 0));
    answer({ json: { event_id: "$r" } });
    await sending;
    expect(chips()).toEqual({ [USER]: "$r" });
    await toggleReaction(client, TEXT, target, "🎉");
    expect(server.calls[1]!.path).toContain(`/rooms/${TEXT}/redact/$r/`);
    expect(chips()).toBeUndefined();
  });

  it("takes a refused reaction back off the chips", async () => {
    const server = new FakeServer().on(/\/send\/m.reaction\//, () => ({ status: 403, json: { errcode: "M_FORBIDDEN", error: "no" } }));
    const client = clientFor(server);
    const target = client.store.room(TEXT)!.timeline[0]!.event_id;
    await expect(toggleReaction(client, TEXT, target, "👍")).rejects.toThrow("You don't have permission to do that.");
    expect(client.store.room(TEXT)!.relations.reactions[target]).toBeUndefined();
    expect(client.store.room(TEXT)!.relations.reactionIndex).toEqual({});
  });
});

describe("attachments", () => {
  class FakeXhr {
    static fail = true;
    static sent: { url: string; headers: Record<string, string>; body: unknown }[] = [];
    upload: { onprogress: ((ev: ProgressEvent) => void) | null } = { onprogress: null };
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    onabort: (() => void) | null = null;
    status = 0;
    responseText = "";
    private url = "";
    private headers: Record<string, string> = {};
    open(_m: string, url: string) {
      this.url = url;
    }
    setRequestHeader(k: string, v: string) {
      this.headers[k] = v;
    }
    abort() {}
    send(body: unknown) {
      FakeXhr.sent.push({ url: this.url, headers: this.headers, body });
      queueMicrotask(() => {
        this.upload.onprogress?.({ loaded: 5, total: 10, lengthComputable: true } as ProgressEvent);
        if (FakeXhr.fail) {
          this.onerror?.();
          return;
        }
        this.status = 200;
        this.responseText = JSON.stringify({ content_uri: "mxc://hs/abc" });
        this.onload?.();
      });
    }
  }

  it("uploads with progress, sends an m.image, and re-uploads on retry after a failed upload", async () => {
    const server = new FakeServer().on(/\/send\/m.room.message\//, () => ({ json: { event_id: "$img" } }));
    const client = clientFor(server);
    const progress: unknown[] = [];
    const stop = client.store.uploads.subscribe((v) => progress.push(v));
    const blob = new Blob([new Uint8Array(10)], { type: "image/gif" });
    const xhr = () => new FakeXhr() as unknown as XMLHttpRequest;
    const err = await sendFile(client, TEXT, blob, "cat.gif", { info: { width: 2, height: 2 }, xhr }).catch((e: unknown) => e);
    expect((err as MatrixError).message).toMatch(/Can't reach the server/);
    const echo = client.store.room(TEXT)!.pending[0]!;
    expect(echo).toMatchObject({ status: "failed", content: { msgtype: "m.image", body: "cat.gif" } });
    expect(echo.content["url"]).toBeUndefined();
    expect(progress).toContainEqual({ [echo.txnId]: { loaded: 5, total: 10 } });

    FakeXhr.fail = false;
    expect(await retrySend(client, TEXT, echo.txnId)).toBe("$img");
    expect(FakeXhr.sent).toHaveLength(2);
    expect(FakeXhr.sent[1]!.url).toBe("https://hs/_matrix/media/v3/upload?filename=cat.gif");
    expect(FakeXhr.sent[1]!.headers).toMatchObject({ Authorization: "Bearer T", "Content-Type": "image/gif" });
    const sent = server.callsTo("/send/m.room.message/")[0]!;
    expect(txnOf(sent)).toBe(echo.txnId);
    expect(sent.body).toMatchObject({ msgtype: "m.image", url: "mxc://hs/abc", info: { mimetype: "image/gif", size: 10, w: 2, h: 2 } });
    expect(client.store.uploads.value).toEqual({});
    stop();
  });
});

describe("room and account actions", () => {
  it("paginates back from prev_batch until the start", async () => {
    const server = new FakeServer().on(/\/messages$/, (call) =>
      call.query.get("from") === "p0"
        ? { json: { start: "p0", end: "p1", chunk: [msg("older")] } }
        : { json: { start: "p1", chunk: [] } },
    );
    const client = clientFor(server);
    client.store.update((s) => ({ ...s, rooms: { ...s.rooms, [TEXT]: { ...s.rooms[TEXT]!, prevBatch: "p0" } } }));
    expect(await paginateBack(client, TEXT)).toBe(true);
    expect(client.store.room(TEXT)!.timeline[0]!.content["body"]).toBe("older");
    expect(server.calls[0]!.query.get("dir")).toBe("b");
    expect(await paginateBack(client, TEXT)).toBe(false);
    expect(await paginateBack(client, TEXT)).toBe(false);
    expect(server.calls).toHaveLength(2);
  });

  it("mutes with a room push rule and unmutes by deleting it (and an old override rule)", async () => {
    const server = new FakeServer().on(/pushrules/, (call) =>
      call.method === "DELETE" && call.path.includes("/room/") ? { status: 404, json: { errcode: "M_NOT_FOUND" } } : { json: {} },
    );
    const client = clientFor(server);
    await setMuted(client, TEXT, true);
    expect(server.calls[0]).toMatchObject({ method: "PUT", path: `/_matrix/client/v3/pushrules/global/room/${TEXT}`, body: { actions: [] } });
    expect(isMuted(client.store.value, TEXT)).toBe(true);
    client.store.update((s) => {
      const rules = s.accountData["m.push_rules"] as { global: Record<string, unknown> };
      const global = { ...rules.global, room: [], override: [{ rule_id: TEXT, actions: [], enabled: true }] };
      return { ...s, accountData: { ...s.accountData, "m.push_rules": { global } } };
    });
    expect(isMuted(client.store.value, TEXT)).toBe(true);
    await setMuted(client, TEXT, false); // the room rule is already gone (404): still fine
    expect(server.calls.slice(1).map((c) => [c.method, c.path.split("/").at(-2)])).toEqual([
      ["DELETE", "room"],
      ["DELETE", "override"],
    ]);
    expect(isMuted(client.store.value, TEXT)).toBe(false);
  });

  it("stores collapsed categories in im.concord.ui, keeping other guilds' state", async () => {
    const server = new FakeServer().on(/account_data/, () => ({ json: {} }));
    const client = clientFor(server);
    client.store.update((s) => ({ ...s, accountData: { ...s.accountData, "im.concord.ui": { collapsed_categories: { "!other:h": ["x"] } } } }));
    await setCategoryCollapsed(client, G, "voice", true);
    expect(server.calls[0]!.path).toBe(`/_matrix/client/v3/user/${USER}/account_data/im.concord.ui`);
    expect(server.calls[0]!.body).toEqual({ collapsed_categories: { "!other:h": ["x"], [G]: ["voice"] } });
    expect(collapsedCategories(client.store.value, G)).toEqual(["voice"]);
    await setCategoryCollapsed(client, G, "voice", false);
    expect(collapsedCategories(client.store.value, G)).toEqual([]);
  });

  it("writes member roles under the user id without its @", async () => {
    const server = new FakeServer().on(/\/state\//, () => ({ json: { event_id: "$s" } }));
    const client = clientFor(server);
    await setMemberRoles(client, G, "@bob:h", ["mods", "mods", "helpers"]);
    expect(server.calls[0]!.path).toBe(`/_matrix/client/v3/rooms/${G}/state/im.concord.member_roles/bob:h`);
    expect(server.calls[0]!.body).toEqual({ roles: ["mods", "helpers"] });
    expect(client.store.room(G)!.state["im.concord.member_roles"]!["bob:h"]!.content).toEqual({ roles: ["mods", "helpers"] });
  });

  it("moves channels and categories through the Concord endpoints", async () => {
    const server = new FakeServer().on(/im.concord\/guilds/, () => ({ json: {} }));
    const client = clientFor(server);
    await moveChannel(client, G, TEXT, "voice", 0);
    expect(server.calls[0]).toMatchObject({ method: "PUT", path: `/_matrix/client/unstable/im.concord/guilds/${G}/channels/${TEXT}` });
    expect(server.calls[0]!.body).toMatchObject({ category: "voice" });
    expect((server.calls[0]!.body as { order: string }).order < "00000100").toBe(true);
    await moveCategory(client, G, "voice", 0);
    expect(server.calls.slice(1).map((c) => [c.path.split("/").at(-1), c.body])).toEqual([
      ["voice", { order: 100 }],
      ["text", { order: 200 }],
    ]);
  });

  it("marks read with both markers and clears the counts at once", async () => {
    const server = new FakeServer().on(/read_markers/, () => ({ json: {} }));
    const client = clientFor(server);
    client.store.update((s) => applySync(s, joinedSync("s2", { [TEXT]: { unread_notifications: { notification_count: 4, highlight_count: 1 } } }), 0));
    await markRead(client, TEXT);
    const last = client.store.room(TEXT)!.timeline.at(-1)!.event_id;
    expect(server.calls[0]!.body).toEqual({ "m.fully_read": last, "m.read": last });
    expect(client.store.room(TEXT)!.notificationCount).toBe(0);
    await markRead(client, TEXT);
    expect(server.calls).toHaveLength(1); // already read: no request
  });

  it("sets status through presence", async () => {
    const server = new FakeServer().on(/presence/, () => ({ json: {} }));
    const client = clientFor(server);
    await setStatus(client, "busy");
    expect(server.calls[0]).toMatchObject({ method: "PUT", path: `/_matrix/client/v3/presence/${USER}/status`, body: { presence: "busy" } });
    expect(client.store.value.presence[USER]!.presence).toBe("busy");
  });
});

describe("presence lookups", () => {
  it("reads a member's current presence into the store", async () => {
    const server = new FakeServer().on(/presence\/.*\/status/, () => ({ json: { presence: "unavailable", last_active_ago: 400, currently_active: false } }));
    const client = clientFor(server);
    await fetchPresence(client, "@bob:h");
    expect(server.calls[0]!.path).toBe("/_matrix/client/v3/presence/@bob:h/status");
    expect(client.store.value.presence["@bob:h"]).toEqual({ presence: "unavailable", lastActiveTs: 600, currentlyActive: false, statusMsg: null });
  });
});
