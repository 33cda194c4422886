import { describe, expect, it } from "vitest";

import { editContent, fileContent, msgtypeFor, textContent } from "../../src/matrix/content";
import { addEcho, applySync, echoFailed } from "../../src/matrix/reduce";
import { messageItems, stripReplyFallback } from "../../src/matrix/timeline";
import { MOD, OWNER, TEXT, USER, guildStore } from "./guildFixture";
import { ev, joinedSync, msg } from "./events";

describe("content builders", () => {
  it("builds text with user and role mentions and a reply (replied-to sender mentioned)", () => {
    expect(textContent({ body: "hi @Mods", userMentions: [MOD, MOD], roleMentions: ["mods"], replyTo: { eventId: "$o", sender: OWNER } })).toEqual({
      msgtype: "m.text",
      body: "hi @Mods",
      "m.mentions": { user_ids: [MOD, OWNER] },
      "im.concord.role_mentions": ["mods"],
      "m.relates_to": { "m.in_reply_to": { event_id: "$o" } },
    });
    expect(textContent({ body: "plain" })).toEqual({ msgtype: "m.text", body: "plain", "m.mentions": { user_ids: [] } });
  });

  it("builds an edit that only notifies newly mentioned users", () => {
    const c = editContent("$orig", { body: "hey @a @b", userMentions: ["@a:h", "@b:h"] }, ["@a:h"]);
    expect(c).toEqual({
      msgtype: "m.text",
      body: "* hey @a @b",
      "m.new_content": { msgtype: "m.text", body: "hey @a @b", "m.mentions": { user_ids: ["@a:h", "@b:h"] } },
      "m.mentions": { user_ids: ["@b:h"] },
      "m.relates_to": { rel_type: "m.replace", event_id: "$orig" },
    });
  });

  it("builds attachments with info by MIME type", () => {
    expect(msgtypeFor("image/gif")).toBe("m.image");
    expect(msgtypeFor("audio/ogg")).toBe("m.audio");
    expect(msgtypeFor("application/pdf")).toBe("m.file");
    expect(fileContent({ name: "a.gif", mimetype: "image/gif", size: 10, width: 4, height: 3 }, "mxc://h/x")).toEqual({
      msgtype: "m.image",
      body: "a.gif",
      filename: "a.gif",
      info: { mimetype: "image/gif", size: 10, w: 4, h: 3 },
      url: "mxc://h/x",
      "m.mentions": { user_ids: [] },
    });
    expect(fileContent({ name: "s.ogg", mimetype: "audio/ogg", size: 5, durationMs: 1234.6 }, "mxc://h/y").info).toEqual({ mimetype: "audio/ogg", size: 5, duration: 1235 });
  });

  it("strips an old-style reply fallback only when it is one", () => {
    expect(stripReplyFallback("> <@a:h> quoted\n> more\n\nanswer")).toBe("answer");
    expect(stripReplyFallback("> just a quote")).toBe("> just a quote");
    expect(stripReplyFallback("> <@a:h> only fallback")).toBe("> <@a:h> only fallback");
  });
});

describe("messageItems", () => {
  it("resolves edits (same sender only), replies, reactions, redactions and mentions", () => {
    let s = guildStore(USER);
    const original = s.rooms[TEXT]!.timeline[0]!; // "hi" from OWNER
    const goodEdit = ev("m.room.message", editContent(original.event_id, { body: "hello" }), { sender: OWNER });
    const forgedEdit = ev("m.room.message", editContent(original.event_id, { body: "pwned" }), { sender: MOD, origin_server_ts: 99_999 });
    const reply = ev("m.room.message", textContent({ body: "> <@owner:h> hi\n\nwelcome", replyTo: { eventId: original.event_id, sender: OWNER } }), { sender: MOD });
    const roleping = ev("m.room.message", textContent({ body: "@Helpers look", roleMentions: ["helpers"] }), { sender: OWNER });
    const react = (sender: string) => ev("m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: original.event_id, key: "👍" } }, { sender });
    const mine = react(USER);
    const doomed = msg("oops", { sender: MOD });
    const redaction = ev("m.room.redaction", { redacts: doomed.event_id }, { sender: MOD });
    s = applySync(s, joinedSync("s2", { [TEXT]: { timeline: { events: [goodEdit, forgedEdit, reply, roleping, mine, react(MOD), doomed, redaction] } } }), 0);
    const items = messageItems(s, TEXT);
    expect(items.map((i) => i.body)).toEqual(["hello", "welcome", "@Helpers look", ""]);
    const [first, answer, ping, gone] = items as [typeof items[0], typeof items[0], typeof items[0], typeof items[0]];
    expect(first).toMatchObject({ edited: true, senderName: "Owner", redacted: false, mentionsMe: false });
    expect(first.reactions).toEqual([{ key: "👍", count: 2, senders: [USER, MOD], mine: mine.event_id }]);
    expect(answer.replyTo).toEqual({ eventId: original.event_id, sender: OWNER, senderName: "Owner", body: "hello", redacted: false });
    expect(ping.mentionsMe).toBe(true); // USER holds "helpers"
    expect(gone).toMatchObject({ redacted: true, reactions: [] });
  });

  it("appends local echoes with their status after the timeline", () => {
    let s = addEcho(guildStore(USER), TEXT, { txnId: "t1", type: "m.room.message", content: textContent({ body: "draft" }), status: "sending", ts: 7 });
    s = echoFailed(s, TEXT, "t1", "Can't reach the server.");
    const last = messageItems(s, TEXT).at(-1)!;
    expect(last).toMatchObject({ key: "t1", txnId: "t1", body: "draft", status: "failed", error: "Can't reach the server.", sender: USER });
  });
});
