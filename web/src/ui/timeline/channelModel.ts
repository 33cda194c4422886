/**
 * The channel view's inputs: a read-only snapshot of one room (`ChannelModel`) and the
 * actions it may take (`ChannelActions`). source.ts builds both from the Matrix client
 * (web/src/matrix: store, derivations and actions); component tests build them from
 * fake data. Keeping this seam narrow keeps the components free of HTTP and sync.
 */
import type { Status } from "../members/grouping";
import type { RoleEntry, UserEntry } from "./model/autocomplete";

export interface Person {
  id: string;
  name: string;
  /** An http(s) URL to show (already resolved from mxc://). */
  avatar?: string;
  color?: string;
  /** Their status (presence), drawn as the shared dot on the author's avatar. */
  status?: Status;
}

export interface ReactionChip {
  key: string;
  /** Senders in the order they reacted. */
  senders: string[];
  /** My reaction's event id, when I reacted with this key (to redact it on toggle). */
  mine?: string;
}

export interface MessageItem {
  /** The event id; `~txnId` for a local echo the server has not accepted yet. */
  id: string;
  sender: string;
  ts: number;
  /** The content to show (an edit's `m.new_content` when edited). */
  content: Record<string, unknown>;
  /** The body to show (reply fallback removed). */
  body: string;
  edited: boolean;
  replyTo?: string;
  reactions: ReactionChip[];
  /** Highlighted: mentions me by id, @room, or a role of mine the sender may mention. */
  mentionsMe: boolean;
  /** Local echo state; absent for messages the server has. */
  pending?: "sending" | "failed";
  txnId?: string;
  /** Why a local echo failed, in plain words. */
  failure?: string;
  /** Upload progress of an attachment being sent (0..1). */
  upload?: number;
}

export interface ChannelModel {
  roomId: string;
  me: string;
  name: string;
  /** A conversation with people rather than a named channel (a DM). */
  isDm: boolean;
  /** Messages oldest first, local echoes (pending/failed) last. */
  items: MessageItem[];
  /** A message by id among `items` (reply quotes). */
  byId: ReadonlyMap<string, MessageItem>;
  /** Ids of redacted events (a reply to one says the original was deleted). */
  deleted: ReadonlySet<string>;
  person(userId: string): Person;
  /** Joined members, for autocomplete. */
  members: UserEntry[];
  /** Roles I may mention (mentionable, or all of them if I hold mention_roles). */
  mentionableRoles: RoleEntry[];
  /** Role names by id (to highlight `@Role` in bodies). */
  roleNames: ReadonlyMap<string, string>;
  abilities: { write: boolean; react: boolean; redactOthers: boolean };
  /** Other users typing now. */
  typing: string[];
  /** More history may be loaded with `paginate`. */
  canPaginate: boolean;
  /** Why writing is impossible, in plain words (undefined when I may write). */
  readOnlyReason?: string;
}

/** What the composer produces: text and whom it mentions (web/src/matrix TextMessage). */
export interface Draft {
  body: string;
  userMentions: string[];
  roleMentions: string[];
  /** Users' `@label`s in body, sent as matrix.to pills in formatted_body. */
  pills?: { label: string; userId: string }[];
  replyTo?: { eventId: string; sender: string };
}

export interface ChannelActions {
  /** Send a message; the store keeps a local echo until the server confirms it. */
  send(draft: Draft): void;
  /** Upload and send a file; progress and failure show on its local echo. */
  sendFile(file: File): void;
  retry(txnId: string): void;
  discard(txnId: string): void;
  edit(item: MessageItem, body: string): Promise<void>;
  redact(eventId: string): Promise<void>;
  react(eventId: string, key: string): Promise<void>;
  /** Load older messages; resolves when they are in the store. */
  paginate(): Promise<void>;
  typing(active: boolean): void;
  markRead(eventId: string): void;
  /** An http URL for an mxc:// URI (authenticated download). */
  mediaUrl(mxc: string): string;
}
