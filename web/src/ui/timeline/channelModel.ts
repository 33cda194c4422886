/**
 * The channel view's inputs: a read-only snapshot of one room (`ChannelModel`) and the
 * actions it may take (`ChannelActions`). source.ts builds both from the Matrix client
 * and its store; component tests build them from fake data. Keeping this seam narrow is
 * what lets the components stay free of HTTP and sync details.
 */
import type { MessageItem } from "./model/aggregate";
import type { RoleEntry, UserEntry } from "./model/autocomplete";
import type { GuildInfo } from "./model/guildInfo";
import type { ChannelAbilities } from "./model/powerLevels";

export interface Person {
  id: string;
  name: string;
  /** An http(s) URL to show (already resolved from mxc://). */
  avatar?: string;
  color?: string;
}

export interface ChannelModel {
  roomId: string;
  me: string;
  name: string;
  /** A conversation with people rather than a named channel (a DM). */
  isDm: boolean;
  topic?: string;
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
  guild: GuildInfo;
  abilities: ChannelAbilities;
  /** Other users typing now. */
  typing: string[];
  /** More history may be loaded with `paginate`. */
  canPaginate: boolean;
  /** Why writing is impossible, in plain words (undefined when I may write). */
  readOnlyReason?: string;
}

export interface ChannelActions {
  /** Send a message; the store keeps a local echo until the server confirms it. */
  send(content: Record<string, unknown>): void;
  retry(txnId: string): void;
  discard(txnId: string): void;
  edit(eventId: string, content: Record<string, unknown>): Promise<void>;
  redact(eventId: string): Promise<void>;
  react(eventId: string, key: string): Promise<void>;
  /** Load older messages; resolves when they are in the store. */
  paginate(): Promise<void>;
  /** Upload a file; `onProgress` gets 0..1. Resolves to its mxc:// URI. */
  upload(file: File, onProgress: (fraction: number) => void): Promise<string>;
  typing(active: boolean): void;
  markRead(eventId: string): void;
  /** An http URL for an mxc:// URI (authenticated download). */
  mediaUrl(mxc: string): string;
}
