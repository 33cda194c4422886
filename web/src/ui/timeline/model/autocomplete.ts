/**
 * `@` autocomplete in the composer and the mentions a sent message carries.
 *
 * Typing `@al` offers members whose display name or user id starts with (or has a word
 * starting with) "al", and roles likewise — a role only when it is mentionable or I hold
 * `mention_roles`, since the server would not notify anyone otherwise
 * (homeserver/chat/mentions.py). Picking one inserts `@Name ` and remembers the mention;
 * on send, the mentions whose `@Name` is still in the text become `m.mentions.user_ids`
 * (spec: client-server "User and room mentions") and `im.concord.role_mentions`.
 */
import { localpart } from "../../../matrix";

export interface Candidate {
  kind: "user" | "role";
  id: string;
  /** What is inserted after the "@" and shown. */
  label: string;
  /** A secondary line (the user id). */
  detail?: string;
  color?: string;
}

export interface MentionQuery {
  /** Index of the "@". */
  start: number;
  query: string;
}

/** The `@query` being typed just before the caret, if any. */
export function mentionQuery(text: string, caret: number): MentionQuery | undefined {
  const before = text.slice(0, caret);
  const match = /(^|\s)@([^\s@]{0,64})$/.exec(before);
  if (!match) return undefined;
  return { start: caret - match[2]!.length - 1, query: match[2]! };
}

function score(query: string, ...names: string[]): number {
  const q = query.toLowerCase();
  let best = -1;
  for (const name of names) {
    const n = name.toLowerCase();
    if (n.startsWith(q)) best = Math.max(best, 2);
    else if (n.split(/[\s._-]+/).some((word) => word.startsWith(q))) best = Math.max(best, 1);
  }
  return best;
}

export interface UserEntry {
  id: string;
  name: string;
  color?: string;
}

export interface RoleEntry {
  id: string;
  name: string;
  color?: string;
}

/** Candidates for `query`: best matches first, users before roles on ties, at most `limit`. */
export function matchCandidates(
  query: string,
  users: readonly UserEntry[],
  roles: readonly RoleEntry[],
  limit = 8,
): Candidate[] {
  const scored: { c: Candidate; s: number; order: number }[] = [];
  for (const u of users) {
    const s = score(query, u.name, localpart(u.id));
    if (s >= 0) scored.push({ c: { kind: "user", id: u.id, label: u.name, detail: u.id, color: u.color }, s, order: 0 });
  }
  for (const r of roles) {
    const s = score(query, r.name);
    if (s >= 0) scored.push({ c: { kind: "role", id: r.id, label: r.name, color: r.color }, s, order: 1 });
  }
  scored.sort((a, b) => b.s - a.s || a.order - b.order || a.c.label.localeCompare(b.c.label));
  return scored.slice(0, limit).map((x) => x.c);
}

/** The text with the `@query` replaced by `@Label `, and where the caret goes. */
export function applyCandidate(text: string, q: MentionQuery, c: Candidate): { text: string; caret: number } {
  const insert = `@${c.label} `;
  const end = q.start + 1 + q.query.length;
  const next = text.slice(0, q.start) + insert + text.slice(end);
  return { text: next, caret: q.start + insert.length };
}

/** The users and roles a message `body` mentions, given the candidates picked while
 * composing (a pick whose `@Label` was deleted again mentions nobody). */
export function pickedMentions(body: string, picked: readonly Candidate[]): { userMentions: string[]; roleMentions: string[] } {
  const users = new Set<string>();
  const roles = new Set<string>();
  for (const c of picked) {
    if (!body.includes(`@${c.label}`)) continue;
    (c.kind === "user" ? users : roles).add(c.id);
  }
  return { userMentions: [...users], roleMentions: [...roles] };
}
