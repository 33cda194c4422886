import { describe, expect, it } from "vitest";

import { orderBetween, planCategoryMove, planChannelMove, spacedOrders } from "../../src/matrix/concord";
import { guildFromRoom, type Guild } from "../../src/matrix/guild";
import { G, TEXT, VOICE, guildStore } from "./guildFixture";

function valid(order: string): boolean {
  return order.length <= 50 && /^[\x20-\x7e]*$/.test(order);
}

describe("orderBetween", () => {
  const cases: [string | null, string | null][] = [
    [null, null],
    ["00000100", "00000200"],
    ["00000100", "00000101"],
    ["a", "a0"],
    ["a", "a!"],
    [null, "!"],
    ["~~~", null],
    ["0000010", "00000100"],
  ];
  for (const [lo, hi] of cases) {
    it(`finds a string between ${lo} and ${hi}`, () => {
      const mid = orderBetween(lo, hi);
      expect(mid).not.toBeNull();
      expect(valid(mid!)).toBe(true);
      if (lo !== null) expect(mid! > lo).toBe(true);
      if (hi !== null) expect(mid! < hi).toBe(true);
    });
  }
  it("gives up when nothing fits", () => {
    expect(orderBetween("b", "a")).toBeNull();
    expect(orderBetween("a", "a")).toBeNull();
    expect(orderBetween(null, " ")).toBeNull();
    expect(orderBetween("a", "a ")).toBeNull();
  });
});

function guildWith(extra: Record<string, { order: string | null; category: string | null }>): Guild {
  const g = guildFromRoom(guildStore().rooms[G]!);
  const channels = { ...g.channels };
  for (const [id, link] of Object.entries(extra)) channels[id] = { roomId: id, ...link };
  return { ...g, channels };
}

describe("planChannelMove", () => {
  it("moves one channel between ordered neighbours with a single update", () => {
    const g = guildWith({ "!b:h": { order: "00000200", category: "text" } });
    expect(planChannelMove(g, "!b:h", "text", 0)).toEqual([{ roomId: "!b:h", category: "text", order: expect.any(String) }]);
    const [move] = planChannelMove(g, "!b:h", "text", 0);
    expect(move!.order < "00000100").toBe(true);
    // Into another category, after its only channel:
    const [cross] = planChannelMove(g, TEXT, "voice", 1);
    expect(cross).toMatchObject({ roomId: TEXT, category: "voice" });
    expect(cross!.order > "00000100").toBe(true);
  });

  it("renumbers the group when neighbours have no order", () => {
    const g = guildWith({ "!x:h": { order: null, category: "text" }, "!y:h": { order: null, category: "text" } });
    const plan = planChannelMove(g, "!y:h", "text", 1);
    const orders = spacedOrders(3);
    expect(plan).toEqual([
      { roomId: "!y:h", category: "text", order: orders[1] },
      { roomId: "!x:h", category: "text", order: orders[2] },
    ]);
  });

  it("applying the plan puts the channel where it was dropped", () => {
    const g = guildWith({ "!b:h": { order: "00000200", category: "text" }, "!c:h": { order: null, category: "text" } });
    const plan = planChannelMove(g, "!c:h", "text", 1);
    const moved = { ...g.channels };
    for (const m of plan) moved[m.roomId] = { roomId: m.roomId, order: m.order, category: m.category };
    const order = Object.values(moved).filter((l) => l.category === "text").sort((a, b) => ((a.order ?? "~") < (b.order ?? "~") ? -1 : 1)).map((l) => l.roomId);
    expect(order).toEqual([TEXT, "!c:h", "!b:h"]);
    void VOICE;
  });
});

describe("planCategoryMove", () => {
  it("renumbers categories so the moved one lands at its index", () => {
    const g = guildFromRoom(guildStore().rooms[G]!);
    expect(planCategoryMove(g, "voice", 0)).toEqual([
      { categoryId: "voice", order: 100 },
      { categoryId: "text", order: 200 },
    ]);
    expect(planCategoryMove(g, "text", 0)).toEqual([]);
  });
});
