import { describe, expect, it } from "vitest";

import { emptyRoom, emptyState, type Membership } from "../../src/matrix";
import {
  channelInvitesToJoin,
  guildBadge,
  guildOf,
  highestPosition,
  mayManageRole,
  maySendState,
  mutedRooms,
  permissionsOf,
  type RoomLike,
  type StateLike,
} from "../../src/ui/shell/model";

function room(roomId: string, membership: Membership, state: [string, string, Record<string, unknown>, string?][]): RoomLike {
  const r = emptyRoom(roomId, membership);
  for (const [type, key, content, sender] of state) (r.state[type] ??= {})[key] = { type, state_key: key, content, sender };
  return r;
}

const STEWARD = "@concord:hs";
const OWNER = "@owner:hs";
const MOD = "@mod:hs";
const PLAIN = "@plain:hs";

const guildRoom = room("!g", "join", [
  ["m.room.create", "", { type: "m.space", "im.concord.owner": OWNER }, STEWARD],
  ["m.room.name", "", { name: "Guild" }],
  ["m.room.member", STEWARD, { membership: "join" }],
  ["m.room.member", OWNER, { membership: "join" }],
  ["m.room.member", MOD, { membership: "join" }],
  ["m.room.member", PLAIN, { membership: "join" }],
  ["im.concord.role", "admin", { name: "Admin", position: 1000, permissions: ["administrator"] }],
  ["im.concord.role", "mods", { name: "Mods", position: 50, permissions: ["manage_roles", "kick"] }],
  ["im.concord.role", "helpers", { name: "Helpers", position: 10 }],
  ["im.concord.role", "deleted", {}],
  ["im.concord.member_roles", "mod:hs", { roles: ["mods", "deleted"] }],
  ["im.concord.category", "text", { name: "Text", order: 0 }],
  ["im.concord.category", "voice", { name: "Voice", order: 1 }],
  ["m.space.child", "!v", { via: ["hs"], order: "00000100", "im.concord.category": "voice" }],
  ["m.space.child", "!b", { via: ["hs"], order: "00000200", "im.concord.category": "text" }],
  ["m.space.child", "!a", { via: ["hs"], order: "00000100", "im.concord.category": "text" }],
  ["m.space.child", "!loose", { via: ["hs"], "im.concord.category": "gone" }],
  ["m.space.child", "!removed", {}],
]);

function stateOf(...rooms: RoomLike[]): StateLike {
  return { ...emptyState(PLAIN), rooms: Object.fromEntries(rooms.map((r) => [r.roomId, r])) };
}

describe("guildOf mirrors homeserver/chat/guild.py", () => {
  const s = stateOf(guildRoom, room("!v", "join", [["m.room.create", "", { type: "im.concord.voice" }]]));
  const g = guildOf(s, "!g")!;
  it("orders channels: uncategorised first, then by category order and child order", () => {
    expect(g.channels.map((c) => c.roomId)).toEqual(["!loose", "!a", "!b", "!v"]);
    expect(g.channels.find((c) => c.roomId === "!v")!.kind).toBe("voice");
    expect(g.channels.find((c) => c.roomId === "!loose")!.category).toBeNull();
  });
  it("reads deleted roles as absent and ranks members", () => {
    expect([...g.roles.keys()].sort()).toEqual(["admin", "helpers", "mods"]);
    expect(highestPosition(g, OWNER)).toBe(1001);
    expect(highestPosition(g, MOD)).toBe(50);
    expect(highestPosition(g, PLAIN)).toBe(-1);
    expect(permissionsOf(g, OWNER).has("ban")).toBe(true);
    expect([...permissionsOf(g, MOD)].sort()).toEqual(["kick", "manage_roles"]);
  });
  it("lets a member manage only roles below their own", () => {
    expect(mayManageRole(g, MOD, "helpers")).toBe(true);
    expect(mayManageRole(g, MOD, "mods")).toBe(false);
    expect(mayManageRole(g, MOD, "helpers", 60)).toBe(false);
    expect(mayManageRole(g, PLAIN, "helpers")).toBe(false);
    expect(mayManageRole(g, OWNER, "admin")).toBe(true);
  });
});

describe("power, mutes and channel invites", () => {
  it("checks a state event's power level", () => {
    const r = room("!c", "join", [
      ["m.room.power_levels", "", { users: { [MOD]: 50 }, events: { "m.room.topic": 50 }, state_default: 100 }],
    ]);
    expect(maySendState(r, MOD, "m.room.topic")).toBe(true);
    expect(maySendState(r, PLAIN, "m.room.topic")).toBe(false);
    expect(maySendState(r, MOD, "m.room.name")).toBe(false);
  });
  it("reads muted rooms from m.push_rules", () => {
    const s = stateOf(...["!quiet", "!legacy", "!off", "!loud"].map((id) => room(id, "join", [])));
    s.accountData["m.push_rules"] = {
      global: {
        room: [
          { rule_id: "!quiet", actions: [], enabled: true },
          { rule_id: "!legacy", actions: ["dont_notify"], enabled: true },
          { rule_id: "!off", actions: [], enabled: false },
          { rule_id: "!loud", actions: ["notify"], enabled: true },
        ],
      },
    };
    expect([...mutedRooms(s)].sort()).toEqual(["!legacy", "!quiet"]);
  });
  it("joins only invites to channels of joined guilds", () => {
    const s = stateOf(guildRoom, room("!a", "invite", []), room("!elsewhere", "invite", []));
    expect(channelInvitesToJoin(s)).toEqual(["!a"]);
  });
  it("sums a guild's mentions and ignores muted channels for unread", () => {
    const a = room("!a", "join", []);
    const b = room("!b", "join", []);
    a.notificationCount = 2;
    a.highlightCount = 1;
    b.notificationCount = 5;
    b.highlightCount = 2;
    const s = stateOf(guildRoom, a, b);
    expect(guildBadge(s, "!g")).toEqual({ unread: true, mentions: 3 });
    s.accountData["m.push_rules"] = {
      global: { room: [{ rule_id: "!a", actions: [] }, { rule_id: "!b", actions: [] }] },
    };
    expect(guildBadge(s, "!g")).toEqual({ unread: false, mentions: 3 });
  });
});
