import { describe, expect, it } from "vitest";

import { textContent } from "../../src/matrix/content";
import type { Guild, Role } from "../../src/matrix/guild";
import { mentionsUser } from "../../src/matrix/mentions";
import { applySync } from "../../src/matrix/reduce";
import { messageItems } from "../../src/matrix/timeline";
import { ev, joinedSync } from "./events";
import { MOD, OWNER, TEXT, USER, guildStore } from "./guildFixture";

// The one mention rule (src/matrix/mentions.ts), as homeserver/chat/mentions.py notifies.
describe("mentionsUser", () => {
  const role = (id: string, position: number, extra: Partial<Role> = {}): Role => ({
    id, name: id, color: null, position, permissions: new Set(), mentionable: false, ...extra,
  });
  const guild: Guild = {
    roomId: "!g:x",
    roles: {
      mods: role("mods", 10, { permissions: new Set(["mention_roles"]) }),
      crew: role("crew", 5),
      loud: role("loud", 3, { mentionable: true }),
    },
    memberRoles: { "@mod:x": new Set(["mods"]), "@me:x": new Set(["crew", "loud"]) },
    members: new Set(["@owner:x", "@mod:x", "@me:x", "@pleb:x"]),
    categories: {},
    channels: {},
    owner: "@owner:x",
    creators: new Set(["@steward:x"]),
  };
  const roles = (...ids: string[]) => ({ "im.concord.role_mentions": ids });

  it("counts user ids and @room, never one's own message", () => {
    expect(mentionsUser({ "m.mentions": { user_ids: ["@me:x"] } }, "@pleb:x", "@me:x", guild)).toBe(true);
    expect(mentionsUser({ "m.mentions": { user_ids: ["@other:x"] } }, "@pleb:x", "@me:x", guild)).toBe(false);
    expect(mentionsUser({ "m.mentions": { room: true } }, "@pleb:x", "@me:x", null)).toBe(true);
    expect(mentionsUser({ "m.mentions": { user_ids: ["@me:x"] } }, "@me:x", "@me:x", guild)).toBe(false);
    expect(mentionsUser({ "m.mentions": { user_ids: ["@me:x"] } }, "@pleb:x", null, guild)).toBe(false);
  });

  it("counts a role only when it is mentionable or the sender holds mention_roles", () => {
    expect(mentionsUser(roles("crew"), "@pleb:x", "@me:x", guild)).toBe(false);
    expect(mentionsUser(roles("crew"), "@mod:x", "@me:x", guild)).toBe(true);
    expect(mentionsUser(roles("crew"), "@owner:x", "@me:x", guild)).toBe(true);
    expect(mentionsUser(roles("loud"), "@pleb:x", "@me:x", guild)).toBe(true);
    // A role I do not hold, one that does not exist, junk, or no guild at all.
    expect(mentionsUser(roles("mods", "nope"), "@owner:x", "@me:x", guild)).toBe(false);
    expect(mentionsUser({ "im.concord.role_mentions": [7, null] }, "@owner:x", "@me:x", guild)).toBe(false);
    expect(mentionsUser(roles("loud"), "@pleb:x", "@me:x", null)).toBe(false);
  });

  it("is what the timeline highlights", () => {
    // Helpers is not mentionable; MOD's Mods role lacks mention_roles; OWNER has everything.
    let s = guildStore(USER);
    const byMod = ev("m.room.message", textContent({ body: "@Helpers hey", roleMentions: ["helpers"] }), { sender: MOD });
    const byOwner = ev("m.room.message", textContent({ body: "@Helpers look", roleMentions: ["helpers"] }), { sender: OWNER });
    s = applySync(s, joinedSync("s2", { [TEXT]: { timeline: { events: [byMod, byOwner] } } }), 0);
    const flags = Object.fromEntries(messageItems(s, TEXT).map((i) => [i.body, i.mentionsMe]));
    expect(flags["@Helpers hey"]).toBe(false);
    expect(flags["@Helpers look"]).toBe(true);
  });
});
