// Pure builders of event content the actions send (spec: client-server "m.room.message
// msgtypes", "User and room mentions", "Rich replies", "Event replacements").

import { ROLE_MENTIONS } from "./guild";
import { HTML_FORMAT, markdownToHtml, type Pill } from "./html";
import type { Json } from "./types";

export interface TextMessage {
  body: string;
  /** Users mentioned (m.mentions.user_ids): they are notified. */
  userMentions?: string[];
  /** Concord roles mentioned (im.concord.role_mentions). */
  roleMentions?: string[];
  /** @room. */
  roomMention?: boolean;
  /** The event replied to, and its sender (who is then mentioned too, as the spec asks). */
  replyTo?: { eventId: string; sender: string };
  msgtype?: "m.text" | "m.emote" | "m.notice";
  /** The `@label`s in `body` the composer inserted for users: linked in formatted_body. */
  pills?: Pill[];
}

function unique(list: string[] | undefined): string[] {
  return [...new Set(list ?? [])];
}

function mentionsOf(userIds: string[], room: boolean): Json {
  const mentions: Json = { user_ids: userIds };
  if (room) mentions["room"] = true;
  return mentions;
}

/**
 * A text message. `m.mentions` is always present (spec: "User and room mentions": its
 * presence stops other clients from guessing mentions from the body). Replies carry
 * `m.in_reply_to` without a quoted fallback: spec v1.13 removed reply fallbacks, and
 * receivers strip old ones (timeline.ts stripReplyFallback). Markdown or pills add an
 * HTML `formatted_body` (html.ts) so other clients show the formatting; `body` stays as typed.
 */
export function textContent(msg: TextMessage): Json {
  const users = unique([...(msg.userMentions ?? []), ...(msg.replyTo ? [msg.replyTo.sender] : [])]);
  const content: Json = {
    msgtype: msg.msgtype ?? "m.text",
    body: msg.body,
    "m.mentions": mentionsOf(users, msg.roomMention === true),
  };
  const html = markdownToHtml(msg.body, msg.pills);
  if (html !== undefined) {
    content["format"] = HTML_FORMAT;
    content["formatted_body"] = html;
  }
  const roles = unique(msg.roleMentions);
  if (roles.length) content[ROLE_MENTIONS] = roles;
  if (msg.replyTo) content["m.relates_to"] = { "m.in_reply_to": { event_id: msg.replyTo.eventId } };
  return content;
}

/**
 * An edit of `eventId` (spec: "Event replacements"): the new content in m.new_content, a
 * "* " fallback body, and top-level mentions only for users not mentioned before (so an
 * edit does not notify twice).
 */
export function editContent(eventId: string, next: TextMessage, previousMentions: string[] = []): Json {
  const fresh = textContent({ ...next, replyTo: undefined });
  const newUsers = (fresh["m.mentions"] as { user_ids: string[] }).user_ids;
  const added = newUsers.filter((u) => !previousMentions.includes(u));
  const content: Json = {
    msgtype: fresh["msgtype"],
    body: `* ${next.body}`,
    "m.new_content": fresh,
    "m.mentions": mentionsOf(added, false),
    "m.relates_to": { rel_type: "m.replace", event_id: eventId },
  };
  if (typeof fresh["formatted_body"] === "string") {
    content["format"] = HTML_FORMAT;
    content["formatted_body"] = `* ${fresh["formatted_body"]}`;
  }
  return content;
}

export function reactionContent(eventId: string, key: string): Json {
  return { "m.relates_to": { rel_type: "m.annotation", event_id: eventId, key } };
}

export interface FileInfo {
  name: string;
  mimetype: string;
  size: number;
  /** Images and videos. */
  width?: number;
  height?: number;
  /** Audio and video, in milliseconds. */
  durationMs?: number;
}

/** msgtype for a file by its MIME type (GIFs are images: they play inline). */
export function msgtypeFor(mimetype: string): "m.image" | "m.audio" | "m.video" | "m.file" {
  if (mimetype.startsWith("image/")) return "m.image";
  if (mimetype.startsWith("audio/")) return "m.audio";
  if (mimetype.startsWith("video/")) return "m.video";
  return "m.file";
}

/** An attachment message (spec: m.image / m.audio / m.video / m.file with `info`). */
export function fileContent(file: FileInfo, url: string | undefined, replyTo?: { eventId: string; sender: string }): Json {
  const msgtype = msgtypeFor(file.mimetype);
  const info: Json = { mimetype: file.mimetype, size: file.size };
  if (file.width !== undefined) info["w"] = file.width;
  if (file.height !== undefined) info["h"] = file.height;
  if (file.durationMs !== undefined) info["duration"] = Math.round(file.durationMs);
  const content: Json = {
    msgtype,
    body: file.name,
    filename: file.name,
    info,
    "m.mentions": mentionsOf(replyTo ? [replyTo.sender] : [], false),
  };
  if (url !== undefined) content["url"] = url;
  if (replyTo) content["m.relates_to"] = { "m.in_reply_to": { event_id: replyTo.eventId } };
  return content;
}
