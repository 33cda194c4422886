import { describe, expect, it } from "vitest";

import { type MemberInfo, memberSections, nameColor, statusOf } from "../../src/ui/members/grouping";

const roles = new Map([
  ["admin", { id: "admin", name: "Admin", color: "#ff0000", position: 1000 }],
  ["mods", { id: "mods", name: "Mods", color: null, position: 50 }],
  ["gone", { id: "x", name: "X", color: "#00ff00", position: 1 }],
]);

const m = (userId: string, held: string[], status: MemberInfo["status"]): MemberInfo => ({
  userId,
  displayName: userId.slice(1, 2),
  roles: held,
  status,
});

describe("memberSections", () => {
  it("groups online members by their most senior role, offline last", () => {
    const sections = memberSections(roles, [
      m("@b:s", ["mods"], "online"),
      m("@a:s", ["mods", "admin"], "busy"),
      m("@c:s", [], "away"),
      m("@d:s", ["admin"], "offline"),
      m("@e:s", ["deleted-role"], "online"),
    ]);
    expect(sections.map((s) => [s.title, s.members.map((x) => x.userId)])).toEqual([
      ["Admin", ["@a:s"]],
      ["Mods", ["@b:s"]],
      ["Online", ["@c:s", "@e:s"]],
      ["Offline", ["@d:s"]],
    ]);
  });
});

describe("status and colour", () => {
  it("maps presence to what users see", () => {
    expect(["online", "unavailable", "busy", "offline", undefined].map(statusOf)).toEqual([
      "online",
      "away",
      "busy",
      "offline",
      "offline",
    ]);
  });
  it("takes the most senior coloured role", () => {
    expect(nameColor(roles, ["mods", "admin"])).toBe("#ff0000");
    expect(nameColor(roles, ["mods"])).toBeNull();
  });
});
