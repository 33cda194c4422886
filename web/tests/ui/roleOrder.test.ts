import { describe, expect, it } from "vitest";

import { positionForDrop } from "../../src/ui/guilds/roleOrder";

const roles = [
  { id: "admin", position: 1000 },
  { id: "mods", position: 50 },
  { id: "helpers", position: 10 },
];

describe("positionForDrop", () => {
  it("puts a role midway between its new neighbours", () => {
    expect(positionForDrop(roles, "helpers", "mods", 1001)).toBe(525);
    expect(positionForDrop(roles, "mods", null, 1001)).toBe(4);
  });
  it("refuses a place at or above the user's own rank", () => {
    // Above Admin (1000) there is no position left, even for the owner.
    expect(positionForDrop(roles, "helpers", "admin", 1001)).toBeNull();
    expect(positionForDrop(roles, "helpers", "mods", 60)).toBeNull();
  });
  it("gives null without room or for unknown roles", () => {
    const tight = [
      { id: "a", position: 5 },
      { id: "b", position: 4 },
      { id: "c", position: 1 },
    ];
    expect(positionForDrop(tight, "c", "b", 1001)).toBeNull();
    expect(positionForDrop(roles, "nope", null, 1001)).toBeNull();
    expect(positionForDrop(roles, "mods", "nope", 1001)).toBeNull();
  });
});
