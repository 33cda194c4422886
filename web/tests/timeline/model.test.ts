import { describe, expect, it } from "vitest";

import { aggregate, stripReplyFallback } from "../../src/ui/timeline/model/aggregate";
import { applyCandidate, highlightMentions, matchCandidates, mentionFields, mentionQuery } from "../../src/ui/timeline/model/autocomplete";
import type { MatrixEvent } from "../../src/ui/timeline/model/events";
import { GROUP_WINDOW_MS, groupMessages } from "../../src/ui/timeline/model/grouping";
import { guildFromState, mentionsUser, nameColor } from "../../src/ui/timeline/model/guildInfo";
import { abilities } from "../../src/ui/timeline/model/powerLevels";

let n = 0;
function ev(sender: string, type: string, content: Record<string, unknown>, extra: Partial<MatrixEvent> = {}): MatrixEvent {
  n += 1;
  return { event_id: `$e${n}`, sender, type, content, origin_server_ts: 1_000_000 + n * 1000, ...extra };
}
const text = (sender: string, body: string, extra: Partial<MatrixEvent> = {}) =>
  ev(sender, "m.room.message", { msgtype: "m.text", body }, extra);

describe("aggregate", () => {
  it("applies the latest edit by the original sender only", () => {
    const m = text("@a:x", "hello");
    const forged = ev("@b:x", "m.room.message", {
      body: "* evil", "m.new_content": { body: "evil" }, "m.relates_to": { rel_type: "m.replace", event_id: m.event_id },
    });
    const e1 = ev("@a:x", "m.room.message", {
      body: "* one", "m.new_content": { body: "one" }, "m.relates_to": { rel_type: "m.replace", event_id: m.event_id },
    });
    const e2 = ev("@a:x", "m.room.message", {
      body: "* two", "m.new_content": { body: "two" }, "m.relates_to": { rel_type: "m.replace", event_id: m.event_id },
    });
    const items = aggregate([m, forged, e2, e1], "@a:x");
    expect(items).toHaveLength(1);
    expect(items[0]!.content["body"]).toBe(e2.origin_server_ts > e1.origin_server_ts ? "two" : "one");
    expect(items[0]!.edited).toBe(true);
  });

  it("counts reactions once per sender and key, knows mine, honours redactions", () => {
    const m = text("@a:x", "hi");
    const rel = { rel_type: "m.annotation", event_id: m.event_id, key: "👍" };
    const r1 = ev("@a:x", "m.reaction", { "m.relates_to": rel });
    const r1dup = ev("@a:x", "m.reaction", { "m.relates_to": rel });
    const r2 = ev("@b:x", "m.reaction", { "m.relates_to": rel });
    const r3 = ev("@b:x", "m.reaction", { "m.relates_to": { ...rel, key: "🎉" } });
    const undo = ev("@b:x", "m.room.redaction", { redacts: r3.event_id });
    const [item] = aggregate([m, r1, r1dup, r2, r3, undo], "@a:x");
    expect(item!.reactions).toEqual([{ key: "👍", senders: ["@a:x", "@b:x"], mine: r1.event_id }]);
  });

  it("drops redacted messages (by event or unsigned) and links replies", () => {
    const a = text("@a:x", "first");
    const b = text("@b:x", "> <@a:x> first\n\nsecond", { content: { msgtype: "m.text", body: "second", "m.relates_to": { "m.in_reply_to": { event_id: a.event_id } } } });
    const c = text("@a:x", "gone");
    const red = ev("@a:x", "m.room.redaction", {}, { redacts: c.event_id });
    const d = ev("@a:x", "m.room.message", {}, { unsigned: { redacted_because: {} } });
    const items = aggregate([a, b, c, red, d], "@a:x");
    expect(items.map((i) => i.id)).toEqual([a.event_id, b.event_id]);
    expect(items[1]!.replyTo).toBe(a.event_id);
  });

  it("strips legacy reply fallbacks", () => {
    expect(stripReplyFallback("> <@a:x> hi\n> more\n\nanswer")).toBe("answer");
    expect(stripReplyFallback("plain")).toBe("plain");
  });
});

describe("groupMessages", () => {
  it("groups one author's close messages, splits on author, gap and reply", () => {
    const base = { content: {}, edited: false, reactions: [] };
    const items = [
      { ...base, id: "1", sender: "@a:x", ts: 0 },
      { ...base, id: "2", sender: "@a:x", ts: 1000 },
      { ...base, id: "3", sender: "@b:x", ts: 2000 },
      { ...base, id: "4", sender: "@b:x", ts: 2000 + GROUP_WINDOW_MS + 1 },
      { ...base, id: "5", sender: "@b:x", ts: 2000 + GROUP_WINDOW_MS + 2, replyTo: "1" },
    ];
    expect(groupMessages(items).map((g) => g.head)).toEqual([true, false, true, true, true]);
  });
});

describe("guild info and mentions", () => {
  const state: MatrixEvent[] = [
    ev("@steward:x", "m.room.create", { room_version: "12", "im.concord.owner": "@owner:x" }, { state_key: "" }),
    ...["@owner:x", "@mod:x", "@me:x", "@pleb:x"].map((u) => ev(u, "m.room.member", { membership: "join" }, { state_key: u })),
    ev("@owner:x", "im.concord.role", { name: "Mods", position: 10, color: "#ff0000", permissions: ["mention_roles"] }, { state_key: "mods" }),
    ev("@owner:x", "im.concord.role", { name: "Crew", position: 5, color: "#00ff00" }, { state_key: "crew" }),
    ev("@owner:x", "im.concord.role", { name: "Loud", position: 3, mentionable: true }, { state_key: "loud" }),
    ev("@owner:x", "im.concord.member_roles", { roles: ["mods"] }, { state_key: "mod:x" }),
    ev("@owner:x", "im.concord.member_roles", { roles: ["crew", "loud"] }, { state_key: "me:x" }),
  ];
  const guild = guildFromState(state);

  it("colours a name by the most senior coloured role", () => {
    expect(nameColor(guild, "@mod:x")).toBe("#ff0000");
    expect(nameColor(guild, "@me:x")).toBe("#00ff00");
    expect(nameColor(guild, "@pleb:x")).toBeUndefined();
  });

  it("detects user mentions and role mentions the sender may make", () => {
    expect(mentionsUser(guild, { "m.mentions": { user_ids: ["@me:x"] } }, "@pleb:x", "@me:x")).toBe(true);
    expect(mentionsUser(guild, { "m.mentions": { user_ids: ["@other:x"] } }, "@pleb:x", "@me:x")).toBe(false);
    // Crew is not mentionable: only a sender with mention_roles reaches its members.
    expect(mentionsUser(guild, { "im.concord.role_mentions": ["crew"] }, "@pleb:x", "@me:x")).toBe(false);
    expect(mentionsUser(guild, { "im.concord.role_mentions": ["crew"] }, "@mod:x", "@me:x")).toBe(true);
    expect(mentionsUser(guild, { "im.concord.role_mentions": ["loud"] }, "@pleb:x", "@me:x")).toBe(true);
    expect(mentionsUser(guild, { "im.concord.role_mentions": ["mods"] }, "@owner:x", "@me:x")).toBe(false);
  });
});

describe("autocomplete", () => {
  it("finds the @query before the caret only", () => {
    expect(mentionQuery("hi @al", 6)).toEqual({ start: 3, query: "al" });
    expect(mentionQuery("mail@al", 7)).toBeUndefined();
    expect(mentionQuery("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionQuery("@al bob", 7)).toBeUndefined();
  });

  it("ranks prefix matches first and matches localparts and words", () => {
    const users = [
      { id: "@bob:x", name: "Bob Alpha" },
      { id: "@alice:x", name: "Alice" },
      { id: "@zed:x", name: "Zed" },
      { id: "@alfred:x", name: "Mr Smith" },
    ];
    const roles = [{ id: "all", name: "Allies" }];
    const got = matchCandidates("al", users, roles).map((c) => c.id);
    expect(got).toEqual(["@alice:x", "@alfred:x", "all", "@bob:x"]);
  });

  it("inserts the label and keeps only mentions still in the text", () => {
    const q = mentionQuery("hey @ali", 8)!;
    const alice = { kind: "user" as const, id: "@alice:x", label: "Alice" };
    const mods = { kind: "role" as const, id: "mods", label: "Mods" };
    expect(applyCandidate("hey @ali", q, alice)).toEqual({ text: "hey @Alice ", caret: 11 });
    expect(mentionFields("hey @Alice and @Mods", [alice, mods])).toEqual({
      "m.mentions": { user_ids: ["@alice:x"] },
      "im.concord.role_mentions": ["mods"],
    });
    expect(mentionFields("hey nobody", [alice, mods])).toEqual({ "m.mentions": {} });
  });

  it("splits a body into mention segments", () => {
    expect(highlightMentions("hi @Al and @Alice!", ["Al", "Alice"])).toEqual([
      { text: "hi ", mention: false },
      { text: "@Al", mention: true },
      { text: " and ", mention: false },
      { text: "@Alice", mention: true },
      { text: "!", mention: false },
    ]);
  });
});

describe("abilities", () => {
  it("reads write and redact from power levels; v12 creators may do all", () => {
    const events = new Map<string, MatrixEvent>([
      ["m.room.create", ev("@c:x", "m.room.create", { room_version: "12" }, { state_key: "" })],
      ["m.room.power_levels", ev("@c:x", "m.room.power_levels", { users: { "@mod:x": 50, "@w:x": 10 }, events_default: 10, redact: 50 }, { state_key: "" })],
    ]);
    const lookup = (type: string) => events.get(type);
    expect(abilities(lookup, "@c:x")).toEqual({ write: true, react: true, redactOthers: true });
    expect(abilities(lookup, "@mod:x").redactOthers).toBe(true);
    expect(abilities(lookup, "@w:x")).toEqual({ write: true, react: true, redactOthers: false });
    expect(abilities(lookup, "@nobody:x").write).toBe(false);
  });
});
