import { describe, expect, it } from "vitest";

import { applyAccountDataEvent, applyOwnReceipt, applySync } from "../../src/matrix/reduce";
import {
  channelAbilities,
  displayName,
  dmsOf,
  guildLayout,
  guildOfChannel,
  guildsOf,
  hasUnread,
  isMuted,
  plainRoomsOf,
  roomBadge,
  roomName,
} from "../../src/matrix/views";
import { memberList, typingNames } from "../../src/matrix/members";
import { G, MOD, OWNER, TEXT, USER, VOICE, guildStore } from "./guildFixture";
import { joinedSync, msg, stateEv } from "./events";

describe("guild views", () => {
  it("lists the joined guild with name and banner, and its categories with channels in order", () => {
    let s = guildStore();
    s = applySync(s, joinedSync("s2", { [G]: { timeline: { events: [stateEv("im.concord.banner", "", { url: "mxc://h/banner" })] } } }), 0);
    expect(guildsOf(s)).toEqual([
      expect.objectContaining({ roomId: G, name: "Guild", bannerUrl: "mxc://h/banner", badge: { unread: true, mentions: 0 } }),
    ]);
    const layout = guildLayout(s, G);
    expect(layout.map((sec) => sec.category?.name ?? null)).toEqual(["Text", "Voice"]);
    expect(layout[0]!.channels.map((c) => [c.name, c.kind, c.membership])).toEqual([["general", "text", "join"]]);
    expect(layout[1]!.channels.map((c) => [c.name, c.kind])).toEqual([["Voice", "voice"]]);
    expect(guildOfChannel(s, TEXT)).toBe(G);
    expect(guildOfChannel(s, "!nope:h")).toBeUndefined();
  });

  it("remembers collapsed categories from im.concord.ui", () => {
    const s = applyAccountDataEvent(guildStore(), "im.concord.ui", { collapsed_categories: { [G]: ["voice"] } });
    expect(guildLayout(s, G).map((sec) => sec.collapsed)).toEqual([false, true]);
  });

  it("says what the user may do in a channel", () => {
    expect(channelAbilities(guildStore(USER), TEXT)).toMatchObject({ send: true, editTopic: false, deleteOthers: false, manageChannels: false, manageRoles: false });
    expect(channelAbilities(guildStore(MOD), TEXT)).toMatchObject({ send: true, editTopic: true, deleteOthers: true, manageChannels: true, manageRoles: true });
    expect(channelAbilities(guildStore(OWNER), VOICE)).toMatchObject({ rename: true, editPermissions: true });
  });

  it("groups members by their most senior role, then online, then offline", () => {
    const s = applySync(guildStore(), {
      next_batch: "p",
      presence: {
        events: [
          { type: "m.presence", sender: MOD, content: { presence: "busy" } },
          { type: "m.presence", sender: OWNER, content: { presence: "online" } },
          { type: "m.presence", sender: USER, content: { presence: "offline" } },
        ],
      },
    }, 0);
    const groups = memberList(s, TEXT);
    expect(groups.map((g) => [g.title, g.members.map((m) => m.name)])).toEqual([
      ["Mods", ["Moddy"]],
      ["Online", ["Owner"]],
      ["Offline", ["user"]],
    ]);
    expect(groups[0]!.members[0]).toMatchObject({ status: "busy", color: "#00ff00" });
    expect(groups[0]!.members[0]!.roles.map((r) => r.id)).toEqual(["mods", "helpers"]);
  });
});

describe("badges and mute", () => {
  it("is unread until our receipt reaches the last message from someone else", () => {
    const s = guildStore(USER);
    expect(hasUnread(s, TEXT)).toBe(true);
    const last = s.rooms[TEXT]!.timeline.at(-1)!.event_id;
    const read = applyOwnReceipt(s, TEXT, last, 5);
    expect(hasUnread(read, TEXT)).toBe(false);
    const ownMsg = applySync(read, joinedSync("s3", { [TEXT]: { timeline: { events: [msg("mine", { sender: USER })] } } }), 0);
    expect(hasUnread(ownMsg, TEXT)).toBe(false);
  });

  it("hides the unread dot of a muted channel but keeps its mentions", () => {
    let s = applySync(guildStore(), joinedSync("s2", { [TEXT]: { unread_notifications: { notification_count: 3, highlight_count: 2 } } }), 0);
    expect(roomBadge(s, TEXT)).toEqual({ unread: true, mentions: 2 });
    s = applyAccountDataEvent(s, "m.push_rules", {
      global: { override: [{ rule_id: TEXT, enabled: true, actions: [], conditions: [] }], room: [] },
    });
    expect(isMuted(s, TEXT)).toBe(true);
    expect(isMuted(s, VOICE)).toBe(false);
    expect(roomBadge(s, TEXT)).toEqual({ unread: false, mentions: 2 });
    expect(guildsOf(s)[0]!.badge).toEqual({ unread: false, mentions: 2 });
    const notifying = applyAccountDataEvent(s, "m.push_rules", {
      global: { override: [{ rule_id: TEXT, enabled: true, actions: ["notify"] }] },
    });
    expect(isMuted(notifying, TEXT)).toBe(false);
  });
});

describe("names, DMs, typing", () => {
  it("names rooms by name, alias, then the other members", () => {
    const s = applySync(
      guildStore(USER),
      {
        next_batch: "s2",
        rooms: {
          join: {
            "!dm:h": {
              state: { events: [stateEv("m.room.member", "@bob:h", { membership: "join", displayname: "Bob" }, { sender: "@bob:h" }), stateEv("m.room.member", USER, { membership: "join" }, { sender: USER })] },
              timeline: { events: [msg("yo", { sender: "@bob:h" })] },
              ephemeral: { events: [{ type: "m.typing", content: { user_ids: ["@bob:h", USER] } }] },
            },
          },
          invite: {
            "!dm2:h": { invite_state: { events: [{ type: "m.room.member", state_key: USER, sender: "@carol:h", content: { membership: "invite", is_direct: true } }] } },
          },
        },
        account_data: { events: [{ type: "m.direct", content: { "@bob:h": ["!dm:h", "!gone:h"] } }] },
      },
      0,
    );
    expect(roomName(s, TEXT)).toBe("general");
    expect(roomName(s, "!dm:h")).toBe("Bob");
    expect(displayName(s, MOD, TEXT)).toBe("Moddy");
    expect(displayName(s, "@nobody:h")).toBe("nobody");
    expect(dmsOf(s).map((d) => [d.roomId, d.userId, d.name, d.membership])).toEqual([
      ["!dm:h", "@bob:h", "Bob", "join"],
      ["!dm2:h", "@carol:h", "carol", "invite"],
    ]);
    expect(typingNames(s, "!dm:h")).toEqual(["Bob"]);
    // Neither the guild, its channels nor the DM are plain rooms; a room of its own is.
    expect(plainRoomsOf(s)).toEqual([]);
    const withPlain = applySync(s, joinedSync("s3", { "!plain:h": { state: { events: [stateEv("m.room.name", "", { name: "Lobby" })] } } }), 0);
    expect(plainRoomsOf(withPlain).map((r) => [r.roomId, r.name, r.kind])).toEqual([["!plain:h", "Lobby", "text"]]);
  });
});
