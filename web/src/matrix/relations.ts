// Relations and redactions, applied to a room being rebuilt by a reducer
// (spec: client-server "Event annotations and reactions", "Event replacements",
// "Redactions"). The functions here take a *draft* room whose containers the caller
// has already copied (see draftRoom in reduce.ts) and mutate only that copy.

import type { Relations, RoomState } from "./store";
import type { Json, MatrixEvent } from "./types";

export interface RelatesTo {
  rel_type?: string;
  event_id?: string;
  key?: string;
  "m.in_reply_to"?: { event_id?: string };
}

export function relatesTo(content: Json | undefined): RelatesTo | undefined {
  const rel = content?.["m.relates_to"];
  return rel && typeof rel === "object" ? (rel as RelatesTo) : undefined;
}

/** The event a redaction removes (v11+: content.redacts, older: top-level redacts). */
export function redactedId(event: MatrixEvent): string | undefined {
  const inContent = event.content?.["redacts"];
  if (typeof inContent === "string") return inContent;
  return typeof event.redacts === "string" ? event.redacts : undefined;
}

/** Is this event a relation kept out of the timeline (a reaction or an edit)? */
export function isHiddenRelation(event: MatrixEvent): boolean {
  if (event.type === "m.reaction") return true;
  return relatesTo(event.content)?.rel_type === "m.replace";
}

/** Copy the relations containers so a draft can change them without touching the old state. */
export function draftRelations(rel: Relations): Relations {
  return {
    reactions: { ...rel.reactions },
    reactionIndex: { ...rel.reactionIndex },
    edits: { ...rel.edits },
    editIndex: { ...rel.editIndex },
    redactions: { ...rel.redactions },
  };
}

export function addReaction(rel: Relations, event: MatrixEvent): void {
  const r = relatesTo(event.content);
  if (r?.rel_type !== "m.annotation" || typeof r.event_id !== "string" || typeof r.key !== "string") return;
  if (rel.redactions[event.event_id] || rel.reactionIndex[event.event_id]) return;
  const byKey = { ...(rel.reactions[r.event_id] ?? {}) };
  const senders = { ...(byKey[r.key] ?? {}) };
  // spec: a user annotates an event with a given key once; a duplicate is ignored.
  if (senders[event.sender]) return;
  senders[event.sender] = event.event_id;
  byKey[r.key] = senders;
  rel.reactions[r.event_id] = byKey;
  rel.reactionIndex[event.event_id] = { target: r.event_id, key: r.key, sender: event.sender };
}

export function removeReaction(rel: Relations, reactionId: string): void {
  const ref = rel.reactionIndex[reactionId];
  if (!ref) return;
  delete rel.reactionIndex[reactionId];
  const byKey = { ...(rel.reactions[ref.target] ?? {}) };
  const senders = { ...(byKey[ref.key] ?? {}) };
  if (senders[ref.sender] === reactionId) delete senders[ref.sender];
  if (Object.keys(senders).length) byKey[ref.key] = senders;
  else delete byKey[ref.key];
  if (Object.keys(byKey).length) rel.reactions[ref.target] = byKey;
  else delete rel.reactions[ref.target];
}

/** Give a local reaction its server event id (what a later redaction must name). */
export function renameReaction(rel: Relations, oldId: string, newId: string): void {
  const ref = rel.reactionIndex[oldId];
  if (!ref) return;
  delete rel.reactionIndex[oldId];
  rel.reactionIndex[newId] = ref;
  const byKey = { ...(rel.reactions[ref.target] ?? {}) };
  const senders = { ...(byKey[ref.key] ?? {}) };
  if (senders[ref.sender] === oldId) senders[ref.sender] = newId;
  byKey[ref.key] = senders;
  rel.reactions[ref.target] = byKey;
}

function addEdit(rel: Relations, event: MatrixEvent): void {
  const r = relatesTo(event.content);
  if (typeof r?.event_id !== "string") return;
  if (rel.redactions[event.event_id] || rel.editIndex[event.event_id]) return;
  const list = [...(rel.edits[r.event_id] ?? []), event];
  // spec: "the most recent replacement" by origin_server_ts, ties by event id.
  list.sort((a, b) => a.origin_server_ts - b.origin_server_ts || (a.event_id < b.event_id ? -1 : 1));
  rel.edits[r.event_id] = list;
  rel.editIndex[event.event_id] = r.event_id;
}

function removeEdit(rel: Relations, editId: string): void {
  const target = rel.editIndex[editId];
  if (target === undefined) return;
  delete rel.editIndex[editId];
  const list = (rel.edits[target] ?? []).filter((e) => e.event_id !== editId);
  if (list.length) rel.edits[target] = list;
  else delete rel.edits[target];
}

/** What is left of an event once redacted (spec: "Redactions": message content is emptied). */
export function redactEvent(event: MatrixEvent, redaction: MatrixEvent): MatrixEvent {
  const kept: Json = {};
  // Keep the keys the redaction algorithm keeps for the state events the UI reads.
  const keep: Record<string, string[]> = {
    "m.room.member": ["membership", "join_authorised_via_users_server"],
    "m.room.create": Object.keys(event.content ?? {}),
    "m.room.join_rules": ["join_rule", "allow"],
    "m.room.power_levels": [
      "ban", "events", "events_default", "invite", "kick", "redact", "state_default", "users", "users_default",
    ],
    "m.room.history_visibility": ["history_visibility"],
  };
  for (const key of keep[event.type] ?? []) {
    if (key in event.content) kept[key] = event.content[key];
  }
  return { ...event, content: kept, unsigned: { ...(event.unsigned ?? {}), redacted_because: redaction } };
}

/** Record relation `event` in the draft; returns true when it belongs out of the timeline. */
export function applyRelation(room: RoomState, event: MatrixEvent): boolean {
  if (event.type === "m.reaction") {
    addReaction(room.relations, event);
    return true;
  }
  if (relatesTo(event.content)?.rel_type === "m.replace") {
    addEdit(room.relations, event);
    return true;
  }
  return false;
}

/** Apply a redaction to the draft: the target's content, its reaction or its edit. */
export function applyRedaction(room: RoomState, redaction: MatrixEvent): void {
  const target = redactedId(redaction);
  if (!target) return;
  room.relations.redactions[target] = redaction;
  removeReaction(room.relations, target);
  removeEdit(room.relations, target);
  const index = room.timeline.findIndex((e) => e.event_id === target);
  if (index >= 0) {
    const timeline = [...room.timeline];
    timeline[index] = redactEvent(timeline[index]!, redaction);
    room.timeline = timeline;
  }
}
