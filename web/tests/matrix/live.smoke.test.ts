// Opt-in check of this library against a real homeserver (the Playwright tests of the
// UI cover the same paths through the browser): CONCORD_HS=http://127.0.0.1:PORT with
// registration open. Skipped without it.

import { describe, expect, it } from "vitest";

import * as mx from "../../src/matrix";

const HS = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env["CONCORD_HS"];

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function user(prefix: string, opts: mx.ClientOptions = {}): Promise<mx.MatrixClient> {
  const { baseUrl } = await mx.discover(HS!);
  const session = await mx.register(baseUrl, `${prefix}${Date.now()}`, "pw-very-long-1");
  const client = new mx.MatrixClient(session, { storage: null, ...opts });
  client.start();
  await until("first sync", () => client.store.state.value.ready);
  return client;
}

describe.runIf(HS)("against a real homeserver", () => {
  it("two users: guild, channels, messages, relations, upload, roles, mute, DMs", async () => {
    const alice = await user("alice");
    const bob = await user("bob", { webSocket: null, autoJoinGuildChannels: true }); // long-poll transport
    try {
      expect(alice.store.transport.value).toBe("ws");
      expect(bob.store.transport.value).toBe("poll");
      const created = await mx.createGuild(alice, { name: "Live guild", public: true });
      const guildId = created.room_id;
      const text = created.channels.find((c) => c.kind === "text")!.room_id;
      await until("guild in alice's store", () => mx.guildsOf(alice.store.value).some((g) => g.roomId === guildId));
      await until("alice's channels", () => mx.guildLayout(alice.store.value, guildId).flatMap((s) => s.channels).length === 2);

      await mx.joinRoom(bob, guildId);
      await until("bob auto-joins the text channel", () => bob.store.room(text)?.membership === "join", 15_000);

      const sent = await mx.sendText(alice, text, { body: "hello bob", userMentions: [bob.userId] });
      await until("bob sees the message", () => mx.messageItems(bob.store.value, text).some((m) => m.eventId === sent));
      expect(mx.messageItems(bob.store.value, text).find((m) => m.eventId === sent)!.mentionsMe).toBe(true);
      await until("alice's echo settles", () => alice.store.room(text)!.pending.length === 0);

      await mx.toggleReaction(bob, text, sent, "👍");
      await mx.editMessage(alice, text, sent, { body: "hello bob (edited)" });
      await until("alice sees reaction and edit", () => {
        const item = mx.messageItems(alice.store.value, text).find((m) => m.eventId === sent);
        return !!item && item.edited && item.reactions[0]?.senders[0] === bob.userId;
      });
      expect(mx.messageItems(alice.store.value, text).find((m) => m.eventId === sent)!.body).toBe("hello bob (edited)");

      const doomed = await mx.sendText(bob, text, { body: "delete me", replyTo: { eventId: sent, sender: alice.userId } });
      await until("alice sees reply", () => mx.messageItems(alice.store.value, text).some((m) => m.eventId === doomed && m.replyTo?.body === "hello bob (edited)"));
      await mx.redact(alice, text, doomed); // alice owns the guild: may delete others'
      await until("bob sees deletion", () => mx.messageItems(bob.store.value, text).find((m) => m.eventId === doomed)?.redacted === true);

      // Upload through XMLHttpRequest (jsdom's, over real HTTP) and send an image.
      const gif = new Blob([Uint8Array.from(atob("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"), (c) => c.charCodeAt(0))], { type: "image/gif" });
      const progress: number[] = [];
      const mxc = await mx.upload(alice, gif, "dot.gif", { onProgress: (l) => progress.push(l) });
      expect(mxc).toMatch(/^mxc:\/\//);
      const image = await mx.sendFile(alice, text, gif, "dot.gif");
      await until("bob sees image", () => mx.messageItems(bob.store.value, text).some((m) => m.eventId === image && m.msgtype === "m.image"));
      const url = alice.mediaUrl(mxc)!;
      expect((await fetch(url)).status).toBe(200);

      // Pagination from a fresh client sees the history.
      const bob2 = new mx.MatrixClient(bob.session, { storage: null, webSocket: null });
      bob2.start();
      await until("bob2 sync", () => bob2.store.room(text)?.membership === "join");
      while (await mx.paginateBack(bob2, text)) {
        /* until the start */
      }
      expect(bob2.store.room(text)!.atStart).toBe(true);
      expect(mx.messageItems(bob2.store.value, text).some((m) => m.eventId === sent)).toBe(true);
      bob2.stop();

      // Roles: create a role, give it to bob; bob's member list entry shows it.
      const roleId = mx.newRoleId();
      await mx.setRole(alice, guildId, roleId, { name: "Friends", position: 10, color: "#3366ff", mentionable: true });
      await mx.setMemberRoles(alice, guildId, bob.userId, [roleId]);
      await until("bob has the role", () => {
        const g = mx.guildOf(bob.store.value, guildId);
        return !!g && mx.rolesOf(g, bob.userId).includes(roleId);
      });
      await mx.loadMembers(alice, text);
      await until("bob listed with the role", () =>
        mx.memberList(alice.store.value, text).some((g) => g.members.some((m) => m.userId === bob.userId && m.color === "#3366ff")),
      );

      // Channels and categories.
      const cat = await mx.createCategory(alice, guildId, "Extra");
      const chan = await mx.createChannel(alice, guildId, { name: "extra-chat", category: cat.category_id });
      await until("new channel in bob's layout", () =>
        mx.guildLayout(bob.store.value, guildId).some((s) => s.category?.id === cat.category_id && s.channels.some((c) => c.roomId === chan.room_id)),
      15_000);
      await mx.moveCategory(alice, guildId, cat.category_id, 0);
      await until("category first", () => mx.guildLayout(alice.store.value, guildId).find((s) => s.category)!.category!.id === cat.category_id);

      // Mute, collapse, status, description.
      await mx.setMuted(bob, text, true);
      await mx.setCategoryCollapsed(bob, guildId, cat.category_id, true);
      await mx.setStatus(bob, "busy");
      await mx.setDescription(bob, "I test things");
      const fresh = new mx.MatrixClient(bob.session, { storage: null });
      fresh.start();
      await until("fresh sync", () => fresh.store.state.value.ready);
      expect(mx.isMuted(fresh.store.value, text)).toBe(true);
      expect(mx.collapsedCategories(fresh.store.value, guildId)).toEqual([cat.category_id]);
      await until("alice sees bob busy", () => mx.statusOf(alice.store.value, bob.userId) === "busy");
      const profile = await mx.fetchProfile(alice, bob.userId);
      expect(profile["im.concord.description"]).toBe("I test things");
      fresh.stop();

      // DMs and the voice token.
      const dm = await mx.openDm(alice, bob.userId);
      await until("bob sees the DM", () => mx.dmsOf(bob.store.value).some((d) => d.roomId === dm), 15_000);
      const token = await mx.requestOpenIdToken(alice);
      expect(token.access_token).toBeTruthy();

      // Deleting the guild removes it from both lists.
      await mx.deleteGuild(alice, guildId);
      await until("guild gone for bob", () => !mx.guildsOf(bob.store.value).some((g) => g.roomId === guildId), 15_000);
    } finally {
      alice.stop();
      bob.stop();
    }
  }, 120_000);
});

// A plain Matrix homeserver (e.g. Synapse, CONCORD_PLAIN_HS=http://127.0.0.1:PORT): no
// WebSocket sync, no Concord endpoints — the client falls back to long-polling and shows
// plain rooms.
const PLAIN = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env["CONCORD_PLAIN_HS"];

describe.runIf(PLAIN)("against a plain Matrix homeserver", () => {
  it("registers, falls back to long-poll, and chats in a plain room", async () => {
    const { baseUrl } = await mx.discover(PLAIN!);
    const make = async (name: string) => {
      const session = await mx.register(baseUrl, `${name}${Date.now()}`, "pw-very-long-1");
      const client = new mx.MatrixClient(session, { storage: null });
      client.start();
      await until("first sync", () => client.store.state.value.ready, 20_000);
      return client;
    };
    const carol = await make("carol");
    const dave = await make("dave");
    try {
      expect(carol.store.transport.value).toBe("poll");
      const created = await carol.http.post<{ room_id: string }>("/_matrix/client/v3/createRoom", { name: "plain room", preset: "public_chat" });
      const roomId = created.room_id;
      await mx.joinRoom(dave, roomId);
      await until("dave joined", () => dave.store.room(roomId)?.membership === "join", 20_000);
      expect(mx.roomName(dave.store.value, roomId)).toBe("plain room");
      expect(mx.guildsOf(dave.store.value)).toEqual([]);
      const id = await mx.sendText(carol, roomId, { body: "hi dave", userMentions: [dave.userId] });
      await mx.toggleReaction(dave, roomId, id, "👋");
      await until("carol sees the reaction", () => mx.messageItems(carol.store.value, roomId).find((m) => m.eventId === id)?.reactions[0]?.count === 1, 20_000);
      await mx.editMessage(carol, roomId, id, { body: "hi dave!", userMentions: [dave.userId] }, [dave.userId]);
      await until("dave sees the edit", () => mx.messageItems(dave.store.value, roomId).find((m) => m.eventId === id)?.body === "hi dave!", 20_000);
      expect(mx.messageItems(dave.store.value, roomId).find((m) => m.eventId === id)!.mentionsMe).toBe(true);
      expect(mx.channelAbilities(dave.store.value, roomId)).toMatchObject({ send: true, rename: false, manageChannels: false });
      expect(mx.channelAbilities(carol.store.value, roomId)).toMatchObject({ send: true, rename: true });
    } finally {
      carol.stop();
      dave.stop();
    }
  }, 120_000);
});
