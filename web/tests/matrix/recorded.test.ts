// The reducers and views on a /sync body recorded from our homeserver (fixtures/
// guild-sync.json: a guild made with POST /guilds, a Mods role given to bob, a message
// to bob that bob reacted to and alice edited, bob's deleted reply, a role mention).
// Hand-written payloads test the edges; this one keeps us honest about the real shapes.

import { describe, expect, it } from "vitest";

import recorded from "./fixtures/guild-sync.json";
import { memberList } from "../../src/matrix/members";
import { applySync } from "../../src/matrix/reduce";
import { emptyState } from "../../src/matrix/store";
import { messageItems } from "../../src/matrix/timeline";
import type { SyncResponse } from "../../src/matrix/types";
import { channelAbilities, guildLayout, guildsOf, roomBadge } from "../../src/matrix/views";

const { user_id: bob, other: alice, guild, text, first, doomed } = recorded;
const state = applySync(emptyState(bob), recorded.sync as unknown as SyncResponse, 0);

describe("a recorded sync of a guild", () => {
  it("shows the guild, its categories, the joined text channel and the invited voice channel", () => {
    expect(guildsOf(state).map((g) => [g.roomId, g.name])).toEqual([[guild, "Recorded guild"]]);
    const layout = guildLayout(state, guild);
    expect(layout.map((s) => s.category?.name)).toEqual(["Text", "Voice"]);
    expect(layout[0]!.channels.map((c) => [c.roomId, c.kind, c.membership])).toEqual([[text, "text", "join"]]);
    expect(layout[1]!.channels.map((c) => [c.kind, c.membership])).toEqual([["voice", "invite"]]);
  });

  it("resolves the edit, the reaction, the deletion and both mentions", () => {
    const items = messageItems(state, text);
    expect(items.map((i) => [i.sender, i.body, i.redacted])).toEqual([
      [alice, "hello @bob!", false],
      [bob, "", true],
      [alice, "@Mods ping", false],
    ]);
    const [hello, gone, ping] = items;
    expect(hello!.eventId).toBe(first);
    expect(hello!.edited).toBe(true);
    expect(hello!.mentionsMe).toBe(true);
    expect(hello!.reactions).toEqual([{ key: "👍", count: 1, senders: [bob], mine: expect.any(String) }]);
    expect(gone!.eventId).toBe(doomed);
    expect(ping!.mentionsMe).toBe(true); // bob holds Mods
    expect(roomBadge(state, text).mentions).toBe(1);
  });

  it("lists bob under Mods with the role colour, and lets him delete others' messages", () => {
    const member = memberList(state, text).flatMap((g) => g.members).find((m) => m.userId === bob)!;
    expect(member.roles.map((r) => r.name)).toEqual(["Mods"]);
    expect(member.color).toBe("#22aa44");
    expect(channelAbilities(state, text)).toMatchObject({ send: true, deleteOthers: true, manageChannels: true, manageRoles: false });
  });
});
