import { describe, expect, it } from "vitest";

import { type ChannelPlace, moveCategory, moveChannel, orderBetween } from "../../src/ui/channels/dnd";

/** Apply moves and sort like homeserver/chat/guild.py channel_order (within categories). */
function applyChannels(channels: ChannelPlace[], moves: ReturnType<typeof moveChannel>): string[] {
  const byId = new Map(channels.map((c) => [c.roomId, { ...c }]));
  for (const m of moves) Object.assign(byId.get(m.roomId)!, m);
  const cats = [null, "text", "voice"];
  return [...byId.values()]
    .sort(
      (a, b) =>
        cats.indexOf(a.category) - cats.indexOf(b.category) ||
        (a.order === null ? 1 : 0) - (b.order === null ? 1 : 0) ||
        (a.order ?? "").localeCompare(b.order ?? "") ||
        a.roomId.localeCompare(b.roomId),
    )
    .map((c) => `${c.category}:${c.roomId}`);
}

const sidebar: ChannelPlace[] = [
  { roomId: "!a", category: "text", order: "00000100" },
  { roomId: "!b", category: "text", order: "00000200" },
  { roomId: "!c", category: "text", order: "00000300" },
  { roomId: "!v", category: "voice", order: "00000100" },
];

describe("moveCategory", () => {
  const cats = [
    { id: "text", order: 0 },
    { id: "voice", order: 1 },
  ];
  it("renumbers when there is no room before the first", () => {
    expect(moveCategory(cats, "voice", "text")).toEqual([
      { id: "voice", order: 0 },
      { id: "text", order: 10 },
    ]);
  });
  it("uses one request when there is room", () => {
    const spaced = [
      { id: "a", order: 0 },
      { id: "b", order: 10 },
      { id: "c", order: 20 },
    ];
    expect(moveCategory(spaced, "c", "b")).toEqual([{ id: "c", order: 5 }]);
    expect(moveCategory(spaced, "a", null)).toEqual([{ id: "a", order: 30 }]);
  });
  it("does nothing for a drop in place or an unknown id", () => {
    expect(moveCategory(cats, "text", "voice")).toEqual([]);
    expect(moveCategory(cats, "voice", null)).toEqual([]);
    expect(moveCategory(cats, "nope", null)).toEqual([]);
  });
});

describe("orderBetween", () => {
  it("finds a midpoint that sorts between", () => {
    expect(orderBetween("00000100", "00000200")).toBe("00000150");
    expect(orderBetween(null, "00000100")).toBe("00000050");
    expect(orderBetween("00000100", null)).toBe("00000200");
  });
  it("gives up without room or on orders it did not write", () => {
    expect(orderBetween("00000100", "00000101")).toBeNull();
    expect(orderBetween("abc", null)).toBeNull();
  });
});

describe("moveChannel", () => {
  it("moves within a category with one request", () => {
    const moves = moveChannel(sidebar, "!c", "text", "!a");
    expect(moves).toEqual([{ roomId: "!c", category: "text", order: "00000050" }]);
    expect(applyChannels(sidebar, moves)).toEqual(["text:!c", "text:!a", "text:!b", "voice:!v"]);
  });
  it("moves into another category", () => {
    const moves = moveChannel(sidebar, "!a", "voice", null);
    expect(applyChannels(sidebar, moves)).toEqual(["text:!b", "text:!c", "voice:!v", "voice:!a"]);
  });
  it("renumbers when neighbours leave no room", () => {
    const tight: ChannelPlace[] = [
      { roomId: "!a", category: "text", order: "1" },
      { roomId: "!b", category: "text", order: "2" },
      { roomId: "!c", category: "text", order: null },
    ];
    const moves = moveChannel(tight, "!c", "text", "!b");
    expect(applyChannels(tight, moves)).toEqual(["text:!a", "text:!c", "text:!b"]);
  });
  it("does nothing for a drop in place", () => {
    expect(moveChannel(sidebar, "!a", "text", "!b")).toEqual([]);
    expect(moveChannel(sidebar, "!c", "text", null)).toEqual([]);
  });
});
