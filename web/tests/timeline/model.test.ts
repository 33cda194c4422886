import { describe, expect, it } from "vitest";

import type { Guild, Role } from "../../src/matrix";
import type { MessageItem } from "../../src/ui/timeline/channelModel";
import { applyCandidate, matchCandidates, mentionQuery, pickedMentions } from "../../src/ui/timeline/model/autocomplete";
import { highlightMentions, splitLinks } from "../../src/ui/timeline/model/text";
import { GROUP_WINDOW_MS, groupMessages } from "../../src/ui/timeline/model/grouping";
import { nameColor } from "../../src/ui/timeline/model/roles";

describe("groupMessages", () => {
  it("groups one author's close messages, splits on author, gap and reply", () => {
    const base = { content: {}, body: "", edited: false, reactions: [], mentionsMe: false };
    const items: MessageItem[] = [
      { ...base, id: "1", sender: "@a:x", ts: 0 },
      { ...base, id: "2", sender: "@a:x", ts: 1000 },
      { ...base, id: "3", sender: "@b:x", ts: 2000 },
      { ...base, id: "4", sender: "@b:x", ts: 2000 + GROUP_WINDOW_MS + 1 },
      { ...base, id: "5", sender: "@b:x", ts: 2000 + GROUP_WINDOW_MS + 2, replyTo: "1" },
    ];
    expect(groupMessages(items).map((g) => g.head)).toEqual([true, false, true, true, true]);
  });
});

describe("roles: colours", () => {
  const role = (id: string, position: number, extra: Partial<Role> = {}): Role => ({
    id, name: id, color: null, position, permissions: new Set(), mentionable: false, ...extra,
  });
  const guild: Guild = {
    roomId: "!g:x",
    roles: {
      mods: role("mods", 10, { color: "#ff0000", permissions: new Set(["mention_roles"]) }),
      crew: role("crew", 5, { color: "#00ff00" }),
      loud: role("loud", 3, { mentionable: true }),
    },
    memberRoles: { "@mod:x": new Set(["mods"]), "@me:x": new Set(["crew", "loud"]) },
    members: new Set(["@owner:x", "@mod:x", "@me:x", "@pleb:x"]),
    categories: {},
    channels: {},
    owner: "@owner:x",
    creators: new Set(["@steward:x"]),
  };

  it("colours a name by the most senior coloured role", () => {
    expect(nameColor(guild, "@mod:x")).toBe("#ff0000");
    expect(nameColor(guild, "@me:x")).toBe("#00ff00");
    expect(nameColor(guild, "@pleb:x")).toBeUndefined();
    expect(nameColor(undefined, "@me:x")).toBeUndefined();
  });
});

describe("autocomplete", () => {
  it("finds the @query before the caret only", () => {
    expect(mentionQuery("hi @al", 6)).toEqual({ start: 3, query: "al" });
    expect(mentionQuery("mail@al", 7)).toBeUndefined();
    expect(mentionQuery("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionQuery("@al bob", 7)).toBeUndefined();
  });

  it("ranks prefix matches first and matches localparts and words", () => {
    const users = [
      { id: "@bob:x", name: "Bob Alpha" },
      { id: "@alice:x", name: "Alice" },
      { id: "@zed:x", name: "Zed" },
      { id: "@alfred:x", name: "Mr Smith" },
    ];
    const roles = [{ id: "all", name: "Allies" }];
    const got = matchCandidates("al", users, roles).map((c) => c.id);
    expect(got).toEqual(["@alice:x", "@alfred:x", "all", "@bob:x"]);
  });

  it("inserts the label and keeps only mentions still in the text", () => {
    const q = mentionQuery("hey @ali", 8)!;
    const alice = { kind: "user" as const, id: "@alice:x", label: "Alice" };
    const mods = { kind: "role" as const, id: "mods", label: "Mods" };
    expect(applyCandidate("hey @ali", q, alice)).toEqual({ text: "hey @Alice ", caret: 11 });
    expect(pickedMentions("hey @Alice and @Mods", [alice, mods])).toEqual({ userMentions: ["@alice:x"], roleMentions: ["mods"] });
    expect(pickedMentions("hey nobody", [alice, mods])).toEqual({ userMentions: [], roleMentions: [] });
  });

  it("finds links, leaving trailing punctuation out", () => {
    expect(splitLinks("see https://example.org/a?b=1, then (http://x.y/z).")).toEqual([
      { text: "see ", link: false },
      { text: "https://example.org/a?b=1", link: true },
      { text: ", then (", link: false },
      { text: "http://x.y/z", link: true },
      { text: ").", link: false },
    ]);
    expect(splitLinks("javascript:alert(1) no")).toEqual([{ text: "javascript:alert(1) no", link: false }]);
  });

  it("splits a body into mention segments", () => {
    expect(highlightMentions("hi @Al and @Alice!", ["Al", "Alice"])).toEqual([
      { text: "hi ", mention: false },
      { text: "@Al", mention: true },
      { text: " and ", mention: false },
      { text: "@Alice", mention: true },
      { text: "!", mention: false },
    ]);
  });
});

describe("parseMarkdown", () => {
  it("styles bold, italic, strike and code, leaving snake_case and lone stars alone", async () => {
    const { parseMarkdown } = await import("../../src/matrix/markdown");
    expect(parseMarkdown("a **b** *c* _d_ ~~e~~ `f *g*` snake_case_name 2 * 3 * 4")).toEqual([
      { kind: "text", text: "a " },
      { kind: "bold", text: "b" },
      { kind: "text", text: " " },
      { kind: "italic", text: "c" },
      { kind: "text", text: " " },
      { kind: "italic", text: "d" },
      { kind: "text", text: " " },
      { kind: "strike", text: "e" },
      { kind: "text", text: " " },
      { kind: "code", text: "f *g*" },
      { kind: "text", text: " snake_case_name 2 * 3 * 4" },
    ]);
    expect(parseMarkdown("see:\n```py\nprint('**x**')\n```\ndone")).toEqual([
      { kind: "text", text: "see:\n" },
      { kind: "codeblock", text: "print('**x**')" },
      { kind: "text", text: "\ndone" },
    ]);
    expect(parseMarkdown("<b>not html</b>")).toEqual([{ kind: "text", text: "<b>not html</b>" }]);
  });
});
