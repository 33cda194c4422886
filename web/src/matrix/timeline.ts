// The message list as the UI draws it: timeline events and local echoes, with edits,
// redactions, replies and reactions resolved (spec: client-server "Event replacements",
// "Rich replies", "Event annotations and reactions", "Redactions").

import { ROLE_MENTIONS, guildFromRoom, type Guild } from "./guild";
import { mentionsUser } from "./mentions";
import { relatesTo } from "./relations";
import type { RoomState, StoreState } from "./store";
import type { Json, MatrixEvent } from "./types";
import { avatarOf, displayName, guildOfChannel } from "./views";

export interface ReactionSummary {
  key: string;
  count: number;
  /** Who reacted, in the order we saw them. */
  senders: string[];
  /** Our own reaction's event id, to undo it (undefined when we did not react). */
  mine?: string;
}

export interface ReplyPreview {
  eventId: string;
  sender?: string;
  senderName?: string;
  /** The quoted text (undefined while the original is not loaded). */
  body?: string;
  redacted: boolean;
}

export interface MessageItem {
  /** Event id, or the txn id of a local echo. */
  key: string;
  eventId?: string;
  txnId?: string;
  type: string;
  sender: string;
  senderName: string;
  avatarUrl?: string;
  ts: number;
  /** Content to display: the latest valid edit's m.new_content when edited. */
  content: Json;
  msgtype?: string;
  /** Body with any reply fallback removed. */
  body: string;
  edited: boolean;
  redacted: boolean;
  replyTo?: ReplyPreview;
  reactions: ReactionSummary[];
  status: "sent" | "sending" | "failed";
  error?: string;
  /** The message mentions us (by user id, @room, or one of our roles). */
  mentionsMe: boolean;
  /** A membership/topic/name change rather than a message. */
  isState: boolean;
}

/** Remove a plain-text reply fallback (lines starting "> " then a blank line), as spec v1.13+ asks. */
export function stripReplyFallback(body: string): string {
  if (!body.startsWith("> <") && !body.startsWith("> * <")) return body;
  const lines = body.split("\n");
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith("> ")) i++;
  if (i === lines.length) return body;
  if (lines[i] === "") i++;
  return lines.slice(i).join("\n");
}

/** The latest replacement of `event` by its own sender (spec: invalid edits are ignored). */
export function latestEdit(room: RoomState, event: MatrixEvent): MatrixEvent | undefined {
  const edits = room.relations.edits[event.event_id] ?? [];
  for (let i = edits.length - 1; i >= 0; i--) {
    const edit = edits[i]!;
    const content = edit.content["m.new_content"];
    if (edit.sender === event.sender && edit.type === event.type && content && typeof content === "object") return edit;
  }
  return undefined;
}

function bodyOf(content: Json): string {
  return typeof content["body"] === "string" ? content["body"] : "";
}

function replyPreview(
  s: StoreState,
  room: RoomState,
  content: Json,
  byId?: Map<string, MatrixEvent>,
): ReplyPreview | undefined {
  const target = relatesTo(content)?.["m.in_reply_to"]?.event_id;
  if (typeof target !== "string") return undefined;
  const original = byId ? byId.get(target) : room.timeline.find((e) => e.event_id === target);
  if (!original) return { eventId: target, redacted: false };
  const redacted = !!original.unsigned?.redacted_because;
  const edit = latestEdit(room, original);
  const shown = edit ? (edit.content["m.new_content"] as Json) : original.content;
  return {
    eventId: target,
    sender: original.sender,
    senderName: displayName(s, original.sender, room.roomId),
    body: redacted ? undefined : stripReplyFallback(bodyOf(shown)),
    redacted,
  };
}

function reactionsOf(room: RoomState, eventId: string, me: string | null): ReactionSummary[] {
  const byKey = room.relations.reactions[eventId] ?? {};
  return Object.entries(byKey).map(([key, senders]) => ({
    key,
    count: Object.keys(senders).length,
    senders: Object.keys(senders),
    mine: me ? senders[me] : undefined,
  }));
}

function channelGuild(s: StoreState, roomId: string): Guild | null {
  const guildId = guildOfChannel(s, roomId);
  const space = guildId ? s.rooms[guildId] : undefined;
  return space ? guildFromRoom(space) : null;
}

const MESSAGE_TYPES = new Set(["m.room.message", "m.sticker"]);

/** Message items for a room, oldest first, local echoes last. */
export function messageItems(s: StoreState, roomId: string, opts: { includeState?: boolean } = {}): MessageItem[] {
  const room = s.rooms[roomId];
  if (!room) return [];
  const me = s.userId;
  const items: MessageItem[] = [];
  const byId = new Map(room.timeline.map((e) => [e.event_id, e] as const));
  let guild: Guild | null | undefined;
  const guildOnce = () => (guild === undefined ? (guild = channelGuild(s, roomId)) : guild);
  for (const event of room.timeline) {
    const isState = typeof event.state_key === "string";
    if (!MESSAGE_TYPES.has(event.type) && !(isState && opts.includeState)) continue;
    const redacted = !!event.unsigned?.redacted_because;
    const edit = redacted ? undefined : latestEdit(room, event);
    const content = edit ? { ...(edit.content["m.new_content"] as Json), "m.relates_to": event.content["m.relates_to"] } : event.content;
    const reply = redacted ? undefined : replyPreview(s, room, event.content, byId);
    items.push({
      key: event.event_id,
      eventId: event.event_id,
      type: event.type,
      sender: event.sender,
      senderName: displayName(s, event.sender, roomId),
      avatarUrl: avatarOf(s, event.sender, roomId),
      ts: event.origin_server_ts,
      content,
      msgtype: typeof content["msgtype"] === "string" ? content["msgtype"] : undefined,
      body: reply ? stripReplyFallback(bodyOf(content)) : bodyOf(content),
      edited: !!edit,
      redacted,
      replyTo: reply,
      reactions: redacted ? [] : reactionsOf(room, event.event_id, me),
      status: "sent",
      mentionsMe: !redacted && mentionsUser(content, event.sender, me, content[ROLE_MENTIONS] ? guildOnce() : null),
      isState,
    });
  }
  for (const echo of room.pending) {
    if (!MESSAGE_TYPES.has(echo.type)) continue;
    const reply = replyPreview(s, room, echo.content, byId);
    items.push({
      key: echo.txnId,
      txnId: echo.txnId,
      eventId: echo.eventId,
      type: echo.type,
      sender: me ?? "",
      senderName: me ? displayName(s, me, roomId) : "",
      avatarUrl: me ? avatarOf(s, me, roomId) : undefined,
      ts: echo.ts,
      content: echo.content,
      msgtype: typeof echo.content["msgtype"] === "string" ? echo.content["msgtype"] : undefined,
      body: reply ? stripReplyFallback(bodyOf(echo.content)) : bodyOf(echo.content),
      edited: false,
      redacted: false,
      replyTo: reply,
      reactions: [],
      status: echo.status,
      error: echo.error,
      mentionsMe: false,
      isState: false,
    });
  }
  return items;
}
