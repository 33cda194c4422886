import { cleanup, fireEvent, render, screen } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { ChannelActions, ChannelModel } from "../../src/ui/timeline/channelModel";
import type { Draft, MessageItem } from "../../src/ui/timeline/channelModel";
import { ChannelPane } from "../../src/ui/timeline/ChannelPane";
import { typingText } from "../../src/ui/timeline/TypingIndicator";

afterEach(cleanup);

const names: Record<string, string> = { "@me:x": "Me", "@alice:x": "Alice", "@bob:x": "Bob" };

function fakeModel(items: MessageItem[], extra: Partial<ChannelModel> = {}): ChannelModel {
  return {
    roomId: "!r:x",
    me: "@me:x",
    name: "general",
    isDm: false,
    items,
    byId: new Map(items.map((i) => [i.id, i])),
    deleted: new Set(["$gone"]),
    person: (id) => ({ id, name: names[id] ?? id }),
    members: Object.entries(names).map(([id, name]) => ({ id, name })),
    mentionableRoles: [{ id: "mods", name: "Mods" }],
    roleNames: new Map([["mods", "Mods"]]),
    abilities: { write: true, react: true, redactOthers: false },
    typing: [],
    canPaginate: false,
    ...extra,
  };
}

function fakeActions(): ChannelActions & { sent: Draft[] } {
  const sent: Draft[] = [];
  return {
    sent,
    send: (d) => void sent.push(d),
    sendFile: vi.fn(),
    retry: vi.fn(),
    discard: vi.fn(),
    edit: vi.fn(async () => undefined),
    redact: vi.fn(async () => undefined),
    react: vi.fn(async () => undefined),
    paginate: vi.fn(async () => undefined),
    typing: vi.fn(),
    markRead: vi.fn(),
    mediaUrl: (mxc) => `http://media/${mxc.slice(6)}`,
  };
}

const msg = (id: string, sender: string, body: string, extra: Partial<MessageItem> = {}): MessageItem => ({
  id, sender, ts: 1_700_000_000_000, content: { msgtype: "m.text", body }, body, edited: false, reactions: [], mentionsMe: false, ...extra,
});

describe("ChannelPane", () => {
  it("autocompletes @mentions and sends m.mentions and role mentions on Enter", async () => {
    const actions = fakeActions();
    render(<ChannelPane model={fakeModel([])} actions={actions} />);
    const box = screen.getByLabelText("Message") as HTMLTextAreaElement;
    box.value = "hi @al";
    box.setSelectionRange(6, 6);
    fireEvent.input(box);
    const option = await screen.findByRole("option", { name: /Alice/ });
    expect(option.getAttribute("aria-selected")).toBe("true");
    fireEvent.keyDown(box, { key: "Enter" });
    expect(box.value).toBe("hi @Alice ");
    box.value = "hi @Alice and @mo";
    box.setSelectionRange(box.value.length, box.value.length);
    fireEvent.input(box);
    fireEvent.mouseDown(await screen.findByRole("option", { name: /Mods/ }));
    fireEvent.keyDown(box, { key: "Enter" });
    expect(actions.sent).toEqual([
      { body: "hi @Alice and @Mods", userMentions: ["@alice:x"], roleMentions: ["mods"], pills: [{ label: "Alice", userId: "@alice:x" }] },
    ]);
    expect(box.value).toBe("");
  });

  it("keeps a failed message with Retry and Discard", () => {
    const actions = fakeActions();
    const failed = msg("~t1", "@me:x", "lost?", { pending: "failed", txnId: "t1", failure: "Can't reach the server." });
    render(<ChannelPane model={fakeModel([failed])} actions={actions} />);
    expect(screen.getByRole("alert").textContent).toContain("Can't reach the server.");
    expect(screen.getByText("lost?")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(actions.retry).toHaveBeenCalledWith("t1");
  });

  it("says why the composer is disabled when I may not write", () => {
    const reason = "You do not have permission to send messages in this channel.";
    render(<ChannelPane model={fakeModel([], { abilities: { write: false, react: false, redactOthers: false }, readOnlyReason: reason })} actions={fakeActions()} />);
    const box = screen.getByLabelText("Message (read only)") as HTMLTextAreaElement;
    expect(box.disabled).toBe(true);
    expect(box.placeholder).toBe(reason);
  });

  it("offers Delete on my messages only unless I may redact others", () => {
    const items = [msg("$1", "@alice:x", "theirs"), msg("$2", "@me:x", "mine")];
    const { unmount } = render(<ChannelPane model={fakeModel(items)} actions={fakeActions()} />);
    expect(screen.getAllByRole("button", { name: "Delete" })).toHaveLength(1);
    unmount();
    render(<ChannelPane model={fakeModel(items, { abilities: { write: true, react: true, redactOthers: true } })} actions={fakeActions()} />);
    expect(screen.getAllByRole("button", { name: "Delete" })).toHaveLength(2);
  });

  it("lists who reacted on hover and toggles my reaction", () => {
    const actions = fakeActions();
    const item = msg("$1", "@alice:x", "hi", { reactions: [{ key: "👍", senders: ["@alice:x", "@me:x"], mine: "$r" }] });
    render(<ChannelPane model={fakeModel([item])} actions={actions} />);
    const chip = screen.getByRole("button", { name: "👍 2" });
    fireEvent.mouseEnter(chip.parentElement!);
    expect(screen.getByRole("tooltip").textContent).toBe("Alice, Me reacted with 👍");
    fireEvent.click(chip);
    expect(actions.redact).toHaveBeenCalledWith("$r");
  });

  it("highlights messages that mention me and marks the @mentions in the text", () => {
    const items = [
      msg("$1", "@alice:x", "hey @Mods", { content: { msgtype: "m.text", body: "hey @Mods", "im.concord.role_mentions": ["mods"] }, mentionsMe: true }),
      msg("$2", "@bob:x", "nothing"),
    ];
    render(<ChannelPane model={fakeModel(items)} actions={fakeActions()} />);
    const rows = screen.getAllByTestId("message");
    expect(rows[0]!.classList.contains("tl-highlight")).toBe(true);
    expect(rows[1]!.classList.contains("tl-highlight")).toBe(false);
    expect(rows[0]!.querySelector(".tl-mention")?.textContent).toBe("@Mods");
  });

  it("shows an attachment's upload progress on its local echo", () => {
    const uploading = msg("~t2", "@me:x", "cat.gif", {
      content: { msgtype: "m.image", body: "cat.gif", info: { mimetype: "image/gif", size: 10 } }, pending: "sending", txnId: "t2", upload: 0.25,
    });
    render(<ChannelPane model={fakeModel([uploading])} actions={fakeActions()} />);
    expect((screen.getByLabelText("Uploading cat.gif") as HTMLProgressElement).value).toBe(0.25);
  });

  it("says when a replied-to message was deleted", () => {
    render(<ChannelPane model={fakeModel([msg("$2", "@bob:x", "answer", { replyTo: "$gone" })])} actions={fakeActions()} />);
    expect(screen.getByText("Original message was deleted")).toBeTruthy();
  });

  it("edits my last message with ↑ in the empty composer, Escape cancels", () => {
    const actions = fakeActions();
    const items = [msg("$1", "@me:x", "first"), msg("$2", "@alice:x", "theirs"), msg("$3", "@me:x", "last of mine")];
    render(<ChannelPane model={fakeModel(items)} actions={actions} />);
    fireEvent.keyDown(screen.getByLabelText("Message"), { key: "ArrowUp" });
    const box = screen.getByLabelText("Edit message") as HTMLTextAreaElement;
    expect(box.value).toBe("last of mine");
    box.value = "last of mine, fixed";
    fireEvent.input(box);
    fireEvent.keyDown(box, { key: "Enter" });
    expect(actions.edit).toHaveBeenCalledWith(items[2], "last of mine, fixed");
    fireEvent.keyDown(screen.getByLabelText("Message"), { key: "ArrowUp" });
    fireEvent.keyDown(screen.getByLabelText("Edit message"), { key: "Escape" });
    expect(screen.queryByLabelText("Edit message")).toBeNull();
  });

  it("moves through suggestions with the arrows and replies with a quote", () => {
    const actions = fakeActions();
    const theirs = msg("$2", "@alice:x", "question?");
    render(<ChannelPane model={fakeModel([theirs])} actions={actions} />);
    fireEvent.click(screen.getByRole("button", { name: "Reply" }));
    expect(screen.getByText("Replying to")).toBeTruthy();
    const box = screen.getByLabelText("Message") as HTMLTextAreaElement;
    box.value = "@";
    box.setSelectionRange(1, 1);
    fireEvent.input(box);
    const first = screen.getAllByRole("option")[0]!.textContent;
    fireEvent.keyDown(box, { key: "ArrowDown" });
    const selected = screen.getAllByRole("option").find((o) => o.getAttribute("aria-selected") === "true")!;
    expect(selected.textContent).not.toBe(first);
    fireEvent.keyDown(box, { key: "Escape" });
    expect(screen.queryByRole("listbox")).toBeNull();
    box.value = "answer";
    fireEvent.input(box);
    fireEvent.keyDown(box, { key: "Enter" });
    expect(actions.sent).toEqual([{ body: "answer", userMentions: [], roleMentions: [], replyTo: { eventId: "$2", sender: "@alice:x" } }]);
    expect(screen.queryByText("Replying to")).toBeNull();
  });

  it("keeps an unsent draft when I leave the channel and come back", () => {
    const first = render(<ChannelPane model={fakeModel([], { roomId: "!draft:x" })} actions={fakeActions()} />);
    const box = screen.getByLabelText("Message") as HTMLTextAreaElement;
    box.value = "half a thought";
    fireEvent.input(box);
    first.unmount();
    render(<ChannelPane model={fakeModel([], { roomId: "!draft:x" })} actions={fakeActions()} />);
    expect((screen.getByLabelText("Message") as HTMLTextAreaElement).value).toBe("half a thought");
  });

  it("offers a refused edit again instead of losing it", async () => {
    const actions = fakeActions();
    actions.edit = vi.fn(async () => {
      throw new Error("You don't have permission to do that.");
    });
    render(<ChannelPane model={fakeModel([msg("$1", "@me:x", "original")])} actions={actions} />);
    fireEvent.click(screen.getByRole("button", { name: "Edit" }));
    const box = screen.getByLabelText("Edit message") as HTMLTextAreaElement;
    box.value = "my careful rewording";
    fireEvent.input(box);
    fireEvent.keyDown(box, { key: "Enter" });
    expect((await screen.findByRole("alert")).textContent).toContain("Could not edit the message: You don't have permission");
    expect(((await screen.findByLabelText("Edit message")) as HTMLTextAreaElement).value).toBe("my careful rewording");
  });

  it("renders Markdown as elements, never as HTML", () => {
    const body = "**bold** and `<img src=x onerror=alert(1)>` see https://example.org";
    render(<ChannelPane model={fakeModel([msg("$1", "@alice:x", body)])} actions={fakeActions()} />);
    const row = screen.getByTestId("message");
    expect(row.querySelector("strong")?.textContent).toBe("bold");
    expect(row.querySelector("code")?.textContent).toBe("<img src=x onerror=alert(1)>");
    expect(row.querySelector("img")).toBeNull();
    expect(row.querySelector("a.tl-link")?.getAttribute("href")).toBe("https://example.org");
  });

  it("words the typing indicator", () => {
    expect(typingText(["Alice"])).toBe("Alice is typing…");
    expect(typingText(["Alice", "Bob"])).toBe("Alice and Bob are typing…");
    expect(typingText(["A", "B", "C", "D"])).toBe("Several people are typing…");
  });
});
