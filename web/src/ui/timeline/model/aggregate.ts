/**
 * Timeline events -> the messages a channel shows: edits applied, reactions counted,
 * redactions honoured, replies linked. Pure: the view recomputes it from the events.
 *
 * spec: client-server "Event replacements" (m.replace: only the original sender's
 * replacements count, the most recent wins, its `m.new_content` is shown), "Event
 * annotations and reactions" (m.annotation keyed by `key`; one per sender and key),
 * "Redactions" (a redacted message or reaction disappears), "Rich replies"
 * (`m.in_reply_to`).
 */
import { isObject, type MatrixEvent, redactedId, relatesTo } from "./events";

export interface ReactionChip {
  key: string;
  /** Senders in the order they reacted. */
  senders: string[];
  /** My reaction's event id, when I reacted with this key (to redact it on toggle). */
  mine?: string;
}

export interface MessageItem {
  id: string;
  sender: string;
  ts: number;
  /** The content to show (an edit's `m.new_content` when edited). */
  content: Record<string, unknown>;
  edited: boolean;
  replyTo?: string;
  reactions: ReactionChip[];
  /** Local echo state; absent for messages the server has. */
  pending?: "sending" | "failed";
  txnId?: string;
  /** Why a local echo failed, in plain words. */
  failure?: string;
}

const SHOWN_TYPES = new Set(["m.room.message", "m.sticker"]);

function relation(event: MatrixEvent): { rel: string; target: string } | undefined {
  const rel = relatesTo(event.content);
  if (!rel) return undefined;
  const type = rel["rel_type"];
  const target = rel["event_id"];
  if (typeof type !== "string" || typeof target !== "string") return undefined;
  return { rel: type, target };
}

function isRedacted(event: MatrixEvent): boolean {
  return event.unsigned?.redacted_because !== undefined;
}

/** The messages of `events` (in timeline order) as the view shows them. */
export function aggregate(events: readonly MatrixEvent[], me: string): MessageItem[] {
  const redacted = new Set<string>();
  for (const event of events) {
    if (event.type === "m.room.redaction") {
      const target = redactedId(event);
      if (target) redacted.add(target);
    } else if (isRedacted(event)) {
      redacted.add(event.event_id);
    }
  }
  const byId = new Map<string, MatrixEvent>();
  for (const event of events) byId.set(event.event_id, event);

  const edits = new Map<string, MatrixEvent>();
  const reactions = new Map<string, Map<string, ReactionChip>>();
  const seenReaction = new Set<string>();
  for (const event of events) {
    if (redacted.has(event.event_id)) continue;
    const rel = relation(event);
    if (!rel) continue;
    if (rel.rel === "m.replace") {
      const original = byId.get(rel.target);
      if (!original || original.sender !== event.sender) continue;
      const newContent = event.content["m.new_content"];
      if (!isObject(newContent)) continue;
      const previous = edits.get(rel.target);
      if (!previous || previous.origin_server_ts <= event.origin_server_ts) {
        edits.set(rel.target, event);
      }
    } else if (rel.rel === "m.annotation" && event.type === "m.reaction") {
      const key = relatesTo(event.content)?.["key"];
      if (typeof key !== "string") continue;
      const unique = `${rel.target}\u0000${key}\u0000${event.sender}`;
      if (seenReaction.has(unique)) continue;
      seenReaction.add(unique);
      let chips = reactions.get(rel.target);
      if (!chips) reactions.set(rel.target, (chips = new Map()));
      let chip = chips.get(key);
      if (!chip) chips.set(key, (chip = { key, senders: [] }));
      chip.senders.push(event.sender);
      if (event.sender === me) chip.mine = event.event_id;
    }
  }

  const items: MessageItem[] = [];
  for (const event of events) {
    if (!SHOWN_TYPES.has(event.type) || redacted.has(event.event_id)) continue;
    const rel = relation(event);
    if (rel?.rel === "m.replace") continue;
    const edit = edits.get(event.event_id);
    const content = edit ? (edit.content["m.new_content"] as Record<string, unknown>) : event.content;
    const inReplyTo = relatesTo(event.content)?.["m.in_reply_to"];
    const replyTo = isObject(inReplyTo) && typeof inReplyTo["event_id"] === "string" ? inReplyTo["event_id"] : undefined;
    items.push({
      id: event.event_id,
      sender: event.sender,
      ts: event.origin_server_ts,
      content,
      edited: edit !== undefined,
      replyTo,
      reactions: [...(reactions.get(event.event_id)?.values() ?? [])],
    });
  }
  return items;
}

/**
 * A body without its reply fallback: clients before spec v1.13 prefixed replies with
 * `> <@user> quoted` lines and a blank line (spec: "Rich replies", fallbacks removed).
 */
export function stripReplyFallback(body: string): string {
  const lines = body.split("\n");
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith("> ")) i++;
  if (i === 0) return body;
  if (i < lines.length && lines[i] === "") i++;
  return lines.slice(i).join("\n");
}
