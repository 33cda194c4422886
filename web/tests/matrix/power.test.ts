import { describe, expect, it } from "vitest";

import { canBan, canKick, canRedact, canSend, canSetState, levelFor, powerLevels, userLevel } from "../../src/matrix/power";
import { emptyRoom } from "../../src/matrix/store";
import { G, MOD, OWNER, STEWARD, TEXT, USER, guildStore } from "./guildFixture";
import { stateEv } from "./events";

describe("power levels", () => {
  it("reads levels with defaults and v12 creators above all", () => {
    const s = guildStore();
    const text = s.rooms[TEXT]!;
    expect(userLevel(text, OWNER)).toBe(100);
    expect(userLevel(text, MOD)).toBe(50);
    expect(userLevel(text, USER)).toBe(0);
    expect(userLevel(text, STEWARD)).toBe(Infinity);
    expect(levelFor(text, "m.room.topic", true)).toBe(50);
    expect(levelFor(text, "m.room.name", true)).toBe(100);
    expect(levelFor(text, "m.room.message", false)).toBe(0);
    expect(powerLevels(text).kick).toBe(50); // default
  });

  it("answers can-I questions for sending, topic, redaction, kick and ban", () => {
    const s = guildStore();
    const text = s.rooms[TEXT]!;
    const space = s.rooms[G]!;
    expect(canSend(text, USER)).toBe(true);
    expect(canSend(space, USER)).toBe(false); // events_default 100 in the space
    expect(canSetState(text, MOD, "m.room.topic")).toBe(true);
    expect(canSetState(text, USER, "m.room.topic")).toBe(false);
    expect(canRedact(text, USER, USER)).toBe(true);
    expect(canRedact(text, USER, MOD)).toBe(false);
    expect(canRedact(text, MOD, USER)).toBe(true);
    expect(canKick(text, MOD, USER)).toBe(true);
    expect(canKick(text, MOD, OWNER)).toBe(false);
    expect(canBan(text, USER, MOD)).toBe(false);
    expect(canSend({ ...text, membership: "leave" }, USER)).toBe(false);
  });

  it("without a power_levels event the creator has 100 and state needs 0", () => {
    const room = emptyRoom("!r:h");
    room.state = { "m.room.create": { "": stateEv("m.room.create", "", { room_version: "10" }, { sender: "@c:h" }) } };
    expect(userLevel(room, "@c:h")).toBe(100);
    expect(userLevel(room, "@x:h")).toBe(0);
    expect(canSetState(room, "@x:h", "m.room.topic")).toBe(true);
  });
});
