import { describe, expect, it } from "vitest";

import {
  addEcho,
  applyMessages,
  applySync,
  echoFailed,
  echoSent,
} from "../../src/matrix/reduce";
import { emptyState, type StoreState } from "../../src/matrix/store";
import { ev, joinedSync, msg, stateEv } from "./events";

const R = "!room:h";

function initial(): StoreState {
  const create = stateEv("m.room.create", "", { room_version: "11" });
  const name = stateEv("m.room.name", "", { name: "general" });
  const hello = msg("hello");
  return applySync(
    emptyState("@me:h"),
    joinedSync("s1", {
      [R]: {
        state: { events: [create] },
        timeline: { events: [name, hello], limited: true, prev_batch: "p0" },
        unread_notifications: { notification_count: 2, highlight_count: 1 },
        summary: { "m.joined_member_count": 3, "m.heroes": ["@alice:h"] },
      },
    }),
    50_000,
  );
}

describe("applySync", () => {
  it("builds room state, timeline, counts and pagination token from an initial sync", () => {
    const s = initial();
    const room = s.rooms[R]!;
    expect(s.ready).toBe(true);
    expect(s.nextBatch).toBe("s1");
    expect(room.membership).toBe("join");
    expect(room.state["m.room.name"]![""]!.content).toEqual({ name: "general" });
    expect(room.state["m.room.create"]![""]!.content["room_version"]).toBe("11");
    expect(room.timeline.map((e) => e.content["body"] ?? e.type)).toEqual(["m.room.name", "hello"]);
    expect(room.prevBatch).toBe("p0");
    expect([room.notificationCount, room.highlightCount, room.joinedCount]).toEqual([2, 1, 3]);
  });

  it("appends deltas, leaves other rooms untouched (same object) and does not duplicate events", () => {
    const s1 = initial();
    const other = applySync(s1, joinedSync("s2", { "!other:h": { timeline: { events: [msg("x")] } } }), 0);
    expect(other.rooms[R]).toBe(s1.rooms[R]);
    const again = s1.rooms[R]!.timeline[1]!;
    const s2 = applySync(other, joinedSync("s3", { [R]: { timeline: { events: [again, msg("second")] } } }), 0);
    expect(s2.rooms[R]!.timeline.map((e) => e.content["body"])).toEqual([undefined, "hello", "second"]);
    expect(s1.rooms[R]!.timeline).toHaveLength(2); // old state unchanged
  });

  it("restarts the timeline after a gap (limited) with the new prev_batch", () => {
    const s = applySync(initial(), joinedSync("s2", { [R]: { timeline: { events: [msg("after gap")], limited: true, prev_batch: "p9" } } }), 0);
    expect(s.rooms[R]!.timeline.map((e) => e.content["body"])).toEqual(["after gap"]);
    expect(s.rooms[R]!.prevBatch).toBe("p9");
  });

  it("tracks reactions per key and sender, and removes a redacted reaction", () => {
    const s1 = initial();
    const target = s1.rooms[R]!.timeline[1]!.event_id;
    const like = (sender: string, key: string) =>
      ev("m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: target, key } }, { sender });
    const a = like("@alice:h", "👍");
    const b = like("@bob:h", "👍");
    const dup = like("@bob:h", "👍");
    const c = like("@bob:h", "🎉");
    const s2 = applySync(s1, joinedSync("s2", { [R]: { timeline: { events: [a, b, dup, c] } } }), 0);
    const room2 = s2.rooms[R]!;
    expect(Object.keys(room2.relations.reactions[target]!["👍"]!).sort()).toEqual(["@alice:h", "@bob:h"]);
    expect(room2.relations.reactions[target]!["👍"]!["@bob:h"]).toBe(b.event_id);
    expect(Object.keys(room2.relations.reactions[target]!["🎉"]!)).toEqual(["@bob:h"]);
    expect(room2.timeline).toHaveLength(2); // reactions are not timeline items

    const undo = ev("m.room.redaction", { redacts: c.event_id }, { sender: "@bob:h" });
    const s3 = applySync(s2, joinedSync("s3", { [R]: { timeline: { events: [undo] } } }), 0);
    expect(s3.rooms[R]!.relations.reactions[target]!["🎉"]).toBeUndefined();
    expect(Object.keys(s3.rooms[R]!.relations.reactions[target]!["👍"]!)).toHaveLength(2);
    expect(s2.rooms[R]!.relations.reactions[target]!["🎉"]).toBeDefined(); // immutability
  });

  it("keeps edits ordered, and empties a redacted message (top-level redacts of old rooms too)", () => {
    const s1 = initial();
    const target = s1.rooms[R]!.timeline[1]!;
    const edit = (body: string, ts: number) =>
      ev(
        "m.room.message",
        { body: `* ${body}`, "m.new_content": { msgtype: "m.text", body }, "m.relates_to": { rel_type: "m.replace", event_id: target.event_id } },
        { origin_server_ts: ts },
      );
    const later = edit("v3", 9_000);
    const earlier = edit("v2", 8_000);
    const s2 = applySync(s1, joinedSync("s2", { [R]: { timeline: { events: [later, earlier] } } }), 0);
    expect(s2.rooms[R]!.relations.edits[target.event_id]!.map((e) => e.event_id)).toEqual([earlier.event_id, later.event_id]);
    expect(s2.rooms[R]!.timeline).toHaveLength(2);

    const redaction = ev("m.room.redaction", {}, { redacts: target.event_id });
    const s3 = applySync(s2, joinedSync("s3", { [R]: { timeline: { events: [redaction] } } }), 0);
    const gone = s3.rooms[R]!.timeline[1]!;
    expect(gone.content).toEqual({});
    expect(gone.unsigned?.redacted_because?.event_id).toBe(redaction.event_id);
  });

  it("reads typing, receipts, room and global account data, presence and invites", () => {
    const s = applySync(
      initial(),
      {
        next_batch: "s2",
        rooms: {
          join: {
            [R]: {
              ephemeral: {
                events: [
                  { type: "m.typing", content: { user_ids: ["@bob:h"] } },
                  { type: "m.receipt", content: { $x: { "m.read": { "@bob:h": { ts: 5 } } } } },
                ],
              },
              account_data: { events: [{ type: "m.fully_read", content: { event_id: "$x" } }] },
            },
          },
          invite: {
            "!inv:h": {
              invite_state: {
                events: [
                  { type: "m.room.name", state_key: "", content: { name: "secret" }, sender: "@bob:h" },
                  { type: "m.room.member", state_key: "@me:h", content: { membership: "invite" }, sender: "@bob:h" },
                ],
              },
            },
          },
        },
        presence: { events: [{ type: "m.presence", sender: "@bob:h", content: { presence: "busy", last_active_ago: 1000, currently_active: false } }] },
        account_data: { events: [{ type: "m.direct", content: { "@bob:h": ["!dm:h"] } }] },
      },
      10_000,
    );
    const room = s.rooms[R]!;
    expect(room.typing).toEqual(["@bob:h"]);
    expect(room.receipts["@bob:h"]).toEqual({ eventId: "$x", ts: 5 });
    expect(room.accountData["m.fully_read"]).toEqual({ event_id: "$x" });
    expect(s.presence["@bob:h"]).toEqual({ presence: "busy", lastActiveTs: 9_000, currentlyActive: false, statusMsg: null });
    expect(s.accountData["m.direct"]).toEqual({ "@bob:h": ["!dm:h"] });
    expect(s.rooms["!inv:h"]!.membership).toBe("invite");
    expect(s.rooms["!inv:h"]!.state["m.room.name"]![""]!.content["name"]).toBe("secret");
  });

  it("moves a room to leave (or ban) when sync says so", () => {
    const kicked = stateEv("m.room.member", "@me:h", { membership: "ban" }, { sender: "@mod:h" });
    const s = applySync(initial(), { next_batch: "s2", rooms: { leave: { [R]: { timeline: { events: [kicked] } } } } }, 0);
    expect(s.rooms[R]!.membership).toBe("ban");
  });
});

describe("local echoes", () => {
  it("goes sending → failed → sending → sent → gone when sync echoes the transaction", () => {
    const echo = { txnId: "t1", type: "m.room.message", content: { msgtype: "m.text", body: "hi" }, status: "sending" as const, ts: 1 };
    let s = addEcho(initial(), R, echo);
    expect(s.rooms[R]!.pending.map((p) => p.status)).toEqual(["sending"]);
    s = echoFailed(s, R, "t1", "Can't reach the server.");
    expect(s.rooms[R]!.pending[0]).toMatchObject({ status: "failed", error: "Can't reach the server.", content: { body: "hi" } });
    s = addEcho(s, R, { ...echo, status: "sending" });
    expect(s.rooms[R]!.pending).toHaveLength(1);
    s = echoSent(s, R, "t1", "$sent");
    expect(s.rooms[R]!.pending[0]).toMatchObject({ status: "sent", eventId: "$sent" });
    const echoed = msg("hi", { event_id: "$sent", sender: "@me:h", unsigned: { transaction_id: "t1" } });
    s = applySync(s, joinedSync("s2", { [R]: { timeline: { events: [echoed] } } }), 0);
    expect(s.rooms[R]!.pending).toEqual([]);
    expect(s.rooms[R]!.timeline.at(-1)!.event_id).toBe("$sent");
  });

  it("drops the echo when the sync came before the HTTP answer", () => {
    let s = addEcho(initial(), R, { txnId: "t2", type: "m.room.message", content: {}, status: "sending", ts: 1 });
    s = applySync(s, joinedSync("s2", { [R]: { timeline: { events: [msg("x", { event_id: "$fast" })] } } }), 0);
    expect(s.rooms[R]!.pending).toHaveLength(1); // no transaction id: not ours yet
    s = echoSent(s, R, "t2", "$fast");
    expect(s.rooms[R]!.pending).toEqual([]);
  });
});

describe("applyMessages", () => {
  it("prepends an older page in order, with its relations and lazy members, and notes the start", () => {
    const s1 = initial();
    const old1 = msg("old 1");
    const old2 = msg("old 2");
    const react = ev("m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: old1.event_id, key: "❤️" } });
    const redactedOld = msg("secret");
    const redaction = ev("m.room.redaction", { redacts: redactedOld.event_id });
    const member = stateEv("m.room.member", "@alice:h", { membership: "join", displayname: "Alice" });
    const s2 = applyMessages(s1, R, { start: "p0", end: "p1", chunk: [redaction, react, old2, redactedOld, old1], state: [member] });
    const room = s2.rooms[R]!;
    expect(room.timeline.map((e) => e.content["body"] ?? e.type)).toEqual(["old 1", "m.room.message", "old 2", "m.room.name", "hello"]);
    expect(room.timeline[1]!.content).toEqual({});
    expect(room.relations.reactions[old1.event_id]!["❤️"]).toBeDefined();
    expect(room.state["m.room.member"]!["@alice:h"]!.content["displayname"]).toBe("Alice");
    expect([room.prevBatch, room.atStart]).toEqual(["p1", false]);
    const s3 = applyMessages(s2, R, { start: "p1", chunk: [] });
    expect([s3.rooms[R]!.prevBatch, s3.rooms[R]!.atStart]).toEqual([null, true]);
  });
});
