import { describe, expect, it } from "vitest";

import {
  channelOrder,
  channelPermissions,
  guildFromRoom,
  highestPosition,
  mayAssignRoles,
  mayManageRole,
  maySetRole,
  permissionsOf,
  roleMembers,
  rolesOf,
  sortedRoles,
  OUTRANKS_ALL,
  type Guild,
} from "../../src/matrix/guild";
import { applySync } from "../../src/matrix/reduce";
import { G, MOD, OWNER, STEWARD, TEXT, USER, VOICE, guildStore } from "./guildFixture";
import { stateEv } from "./events";

function guild(): Guild {
  return guildFromRoom(guildStore().rooms[G]!);
}

describe("guildFromRoom (mirror of homeserver/chat/guild.py)", () => {
  it("reads roles, member roles, categories and channels; ignores malformed content", () => {
    const g = guild();
    expect(Object.keys(g.roles).sort()).toEqual(["admin", "helpers", "mods"]); // "bad" has an unknown permission
    expect(sortedRoles(g).map((r) => r.id)).toEqual(["admin", "mods", "helpers"]);
    expect(g.roles["mods"]!.mentionable).toBe(true);
    expect([...g.memberRoles[MOD]!].sort()).toEqual(["helpers", "mods"]);
    expect(rolesOf(g, USER)).toEqual(["helpers"]); // "gone" does not exist
    expect(Object.keys(g.channels).sort()).toEqual([TEXT, VOICE]); // the child without via is not a child
    expect(g.owner).toBe(OWNER);
    expect([...g.creators]).toEqual([STEWARD]);
    expect(roleMembers(g, "helpers").sort()).toEqual([MOD, USER]);
  });

  it("ranks the owner above every role and gives roles their permissions", () => {
    const g = guild();
    expect(highestPosition(g, OWNER)).toBe(OUTRANKS_ALL);
    expect(highestPosition(g, MOD)).toBe(500);
    expect(highestPosition(g, USER)).toBe(100);
    expect(highestPosition(g, "@stranger:h")).toBe(-1);
    expect(permissionsOf(g, OWNER).has("ban")).toBe(true);
    expect([...permissionsOf(g, MOD)].sort()).toEqual(["delete_messages", "manage_channels", "manage_roles"]);
    expect(permissionsOf(g, USER).size).toBe(0);
  });

  it("lets a manager touch only roles below their own rank", () => {
    const g = guild();
    expect(mayManageRole(g, MOD, "helpers")).toBe(true);
    expect(mayManageRole(g, MOD, "mods")).toBe(false);
    expect(mayManageRole(g, MOD, "admin")).toBe(false);
    expect(mayManageRole(g, USER, "helpers")).toBe(false);
    expect(maySetRole(g, MOD, "new", 499)).toBe(true);
    expect(maySetRole(g, MOD, "new", 500)).toBe(false);
    expect(maySetRole(g, OWNER, "admin", 1000)).toBe(true);
    expect(mayAssignRoles(g, MOD, USER, [])).toBe(true); // removing helpers and the stale "gone"
    expect(mayAssignRoles(g, MOD, USER, ["helpers", "mods"])).toBe(false); // mods is at their rank
    expect(mayAssignRoles(g, MOD, USER, ["nope"])).toBe(false); // adding a missing role
    expect(mayAssignRoles(g, MOD, OWNER, [])).toBe(false); // the owner outranks them
  });

  it("a member who left keeps member_roles but no power", () => {
    const s = applySync(guildStore(), { next_batch: "s2", rooms: { join: { [G]: { timeline: { events: [stateEv("m.room.member", MOD, { membership: "leave" }, { sender: MOD })] } } } } }, 0);
    const g = guildFromRoom(s.rooms[G]!);
    expect(permissionsOf(g, MOD).size).toBe(0);
    expect(rolesOf(g, MOD)).toEqual([]);
  });

  it("orders channels: uncategorised first, categories by order, then child order, then room id", () => {
    const g = guild();
    const withMore: Guild = {
      ...g,
      channels: {
        ...g.channels,
        "!b:h": { roomId: "!b:h", order: null, category: "text" },
        "!a:h": { roomId: "!a:h", order: "00000050", category: "text" },
        "!loose:h": { roomId: "!loose:h", order: null, category: "missing" },
        "!c:h": { roomId: "!c:h", order: "00000100", category: "text" },
      },
    };
    expect(channelOrder(withMore)).toEqual(["!loose:h", "!a:h", "!c:h", TEXT, "!b:h", VOICE]);
  });

  it("reads channel permissions, treating malformed content as absent", () => {
    const room = guildStore().rooms[TEXT]!;
    const set = (content: object) => ({ ...room, state: { ...room.state, "im.concord.channel_permissions": { "": stateEv("im.concord.channel_permissions", "", content as never) } } });
    expect(channelPermissions(set({ write: ["mods"], read: [] }))).toEqual({ write: ["mods"], read: [] });
    expect(channelPermissions(set({ write: ["mods"], read: "everyone" }))).toEqual({});
    expect(channelPermissions(set({ write: ["mods"], fly: [] }))).toEqual({});
    expect(channelPermissions(room)).toEqual({});
  });
});
