// Pure derivations the UI renders: names, guilds, a guild's categories and channels,
// DMs, badges and member lists. Inputs are store values only; no I/O.

import {
  BANNER,
  VOICE_ROOM_TYPE,
  channelOrder,
  guildFromRoom,
  hasPermission,
  sortedCategories,
  type Category,
  type Guild,
} from "./guild";
import { canRedact, canSend, canSetState } from "./power";
import type { Presence, RoomState, StoreState } from "./store";
import type { Json } from "./types";

export function localpart(userId: string): string {
  const colon = userId.indexOf(":");
  return userId.startsWith("@") ? userId.slice(1, colon < 0 ? undefined : colon) : userId;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** A member's name in a room: room displayname, then global profile, then localpart. */
export function displayName(s: StoreState, userId: string, roomId?: string): string {
  const member = roomId ? s.rooms[roomId]?.state["m.room.member"]?.[userId] : undefined;
  return str(member?.content["displayname"]) ?? str(s.profiles[userId]?.displayname) ?? localpart(userId);
}

/** A member's avatar mxc URI (room member event, then global profile). */
export function avatarOf(s: StoreState, userId: string, roomId?: string): string | undefined {
  const member = roomId ? s.rooms[roomId]?.state["m.room.member"]?.[userId] : undefined;
  return str(member?.content["avatar_url"]) ?? str(s.profiles[userId]?.avatar_url);
}

/** Status as the UI shows it: online (green), unavailable = Away (orange), busy (red), offline (grey). */
export type Status = "online" | "unavailable" | "busy" | "offline";

export function statusOf(s: StoreState, userId: string): Status {
  const p: Presence | undefined = s.presence[userId];
  const value = p?.presence;
  return value === "online" || value === "unavailable" || value === "busy" ? value : "offline";
}

export function isDirect(s: StoreState, roomId: string): string | undefined {
  const direct = s.accountData["m.direct"] ?? {};
  for (const [userId, rooms] of Object.entries(direct)) {
    if (Array.isArray(rooms) && rooms.includes(roomId)) return userId;
  }
  return undefined;
}

/** A room's name (spec: "Calculating the display name for a room", simplified). */
export function roomName(s: StoreState, roomId: string): string {
  const room = s.rooms[roomId];
  if (!room) return roomId;
  const name = str(room.state["m.room.name"]?.[""]?.content["name"]);
  if (name) return name;
  const alias = str(room.state["m.room.canonical_alias"]?.[""]?.content["alias"]);
  if (alias) return alias;
  const me = s.userId;
  const others = room.heroes.length
    ? room.heroes
    : Object.entries(room.state["m.room.member"] ?? {})
        .filter(([u, ev]) => u !== me && ["join", "invite"].includes(String(ev.content["membership"])))
        .map(([u]) => u)
        .sort();
  const dmUser = isDirect(s, roomId);
  const people = others.length ? others : dmUser ? [dmUser] : [];
  if (people.length) return people.slice(0, 3).map((u) => displayName(s, u, roomId)).join(", ");
  return "Empty room";
}

export function roomType(room: RoomState | undefined): string | undefined {
  return str(room?.state["m.room.create"]?.[""]?.content["type"]);
}

export function isSpace(room: RoomState | undefined): boolean {
  return roomType(room) === "m.space";
}

export function isVoice(room: RoomState | undefined): boolean {
  return roomType(room) === VOICE_ROOM_TYPE;
}

/** Is the room muted: a room (or override) push rule for it without a notify action? */
export function isMuted(s: StoreState, roomId: string): boolean {
  const global = (s.accountData["m.push_rules"]?.["global"] ?? {}) as Json;
  const muting = (rule: Json | undefined) => {
    if (!rule || rule["enabled"] === false) return false;
    const actions = rule["actions"];
    return Array.isArray(actions) && !actions.includes("notify");
  };
  const find = (kind: string) => ((global[kind] ?? []) as Json[]).find((r) => r["rule_id"] === roomId);
  return muting(find("override")) || muting(find("room"));
}

/** Does the room have messages from others after our read receipt? */
export function hasUnread(s: StoreState, roomId: string): boolean {
  const room = s.rooms[roomId];
  if (!room || room.membership !== "join") return false;
  if (room.notificationCount > 0) return true;
  const me = s.userId;
  const mine = me ? room.receipts[me]?.eventId : undefined;
  const index = mine ? room.timeline.findIndex((e) => e.event_id === mine) : -1;
  if (mine && index < 0) return false; // the receipt is older than what we hold: unknown, assume read
  return room.timeline.slice(index + 1).some((e) => e.sender !== me && (e.type === "m.room.message" || e.type === "m.sticker"));
}

export interface Badge {
  unread: boolean;
  mentions: number;
}

export function roomBadge(s: StoreState, roomId: string): Badge {
  const room = s.rooms[roomId];
  if (!room) return { unread: false, mentions: 0 };
  const muted = isMuted(s, roomId);
  // Muted: no unread dot, but mentions still count (as in Discord).
  return { unread: !muted && hasUnread(s, roomId), mentions: room.highlightCount };
}

export interface GuildSummary {
  roomId: string;
  name: string;
  avatarUrl?: string;
  bannerUrl?: string;
  topic?: string;
  badge: Badge;
}

function joinTs(s: StoreState, room: RoomState): number {
  const own = s.userId ? room.state["m.room.member"]?.[s.userId] : undefined;
  return own && "origin_server_ts" in own ? (own as { origin_server_ts: number }).origin_server_ts : 0;
}

/** The guilds (spaces) the user has joined, in the order they joined them. */
export function guildsOf(s: StoreState): GuildSummary[] {
  return Object.values(s.rooms)
    .filter((room) => room.membership === "join" && isSpace(room))
    .sort((a, b) => joinTs(s, a) - joinTs(s, b) || (a.roomId < b.roomId ? -1 : 1))
    .map((room) => {
      const guild = guildFromRoom(room);
      const badges = Object.keys(guild.channels).map((id) => roomBadge(s, id));
      return {
        roomId: room.roomId,
        name: roomName(s, room.roomId),
        avatarUrl: str(room.state["m.room.avatar"]?.[""]?.content["url"]),
        bannerUrl: str(room.state[BANNER]?.[""]?.content["url"]),
        topic: str(room.state["m.room.topic"]?.[""]?.content["topic"]),
        badge: { unread: badges.some((b) => b.unread), mentions: badges.reduce((n, b) => n + b.mentions, 0) },
      };
    });
}

/** Spaces and rooms we are invited to (for an invites list). */
export function invitesOf(s: StoreState): { roomId: string; name: string; inviter?: string; space: boolean }[] {
  return Object.values(s.rooms)
    .filter((room) => room.membership === "invite")
    .map((room) => ({
      roomId: room.roomId,
      name: roomName(s, room.roomId),
      inviter: s.userId ? room.state["m.room.member"]?.[s.userId]?.sender : undefined,
      space: isSpace(room),
    }));
}

export interface ChannelSummary {
  roomId: string;
  name: string;
  kind: "text" | "voice";
  topic?: string;
  category: string | null;
  /** joined: a room we are in; invited: the steward invited us (join to open); none: not readable. */
  membership: "join" | "invite" | "none";
  badge: Badge;
  muted: boolean;
}

export interface CategorySection {
  /** null: the channels above every category. */
  category: Category | null;
  collapsed: boolean;
  channels: ChannelSummary[];
}

/** The `im.concord.ui` account data: which categories the user collapsed, per guild. */
export interface ConcordUi {
  collapsed_categories?: Record<string, string[]>;
  [key: string]: unknown;
}

export function collapsedCategories(s: StoreState, guildId: string): string[] {
  const ui = (s.accountData["im.concord.ui"] ?? {}) as ConcordUi;
  const list = ui.collapsed_categories?.[guildId];
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === "string") : [];
}

export function channelSummary(s: StoreState, guild: Guild, roomId: string): ChannelSummary {
  const room = s.rooms[roomId];
  const membership = room?.membership === "join" ? "join" : room?.membership === "invite" ? "invite" : "none";
  return {
    roomId,
    name: room ? roomName(s, roomId) : "channel",
    kind: isVoice(room) ? "voice" : "text",
    topic: str(room?.state["m.room.topic"]?.[""]?.content["topic"]),
    category: guild.channels[roomId]?.category ?? null,
    membership,
    badge: roomBadge(s, roomId),
    muted: isMuted(s, roomId),
  };
}

/** A guild's sidebar: uncategorised channels, then each category with its channels. */
export function guildLayout(s: StoreState, guildId: string): CategorySection[] {
  const space = s.rooms[guildId];
  if (!space) return [];
  const guild = guildFromRoom(space);
  const collapsed = new Set(collapsedCategories(s, guildId));
  const sections: CategorySection[] = [{ category: null, collapsed: false, channels: [] }];
  const byId = new Map<string, CategorySection>();
  for (const category of sortedCategories(guild)) {
    const section = { category, collapsed: collapsed.has(category.id), channels: [] as ChannelSummary[] };
    byId.set(category.id, section);
    sections.push(section);
  }
  for (const roomId of channelOrder(guild)) {
    const summary = channelSummary(s, guild, roomId);
    if (summary.membership === "none") continue;
    const target = (summary.category && byId.get(summary.category)) || sections[0]!;
    target.channels.push(summary);
  }
  return sections.filter((section) => section.category !== null || section.channels.length > 0);
}

/** The guild a channel belongs to (a joined space listing it as a child). */
export function guildOfChannel(s: StoreState, roomId: string): string | undefined {
  for (const room of Object.values(s.rooms)) {
    if (room.membership === "join" && isSpace(room) && room.state["m.space.child"]?.[roomId]) {
      const via = room.state["m.space.child"][roomId]!.content["via"];
      if (Array.isArray(via) && via.length) return room.roomId;
    }
  }
  return undefined;
}

export function guildOf(s: StoreState, guildId: string): Guild | undefined {
  const room = s.rooms[guildId];
  return room ? guildFromRoom(room) : undefined;
}

/** What the user may do in a channel (power levels of the channel, Concord permissions of its guild). */
export interface ChannelAbilities {
  send: boolean;
  react: boolean;
  editTopic: boolean;
  rename: boolean;
  deleteOthers: boolean;
  manageChannels: boolean;
  manageRoles: boolean;
  editPermissions: boolean;
}

export function channelAbilities(s: StoreState, roomId: string): ChannelAbilities {
  const me = s.userId ?? "";
  const room = s.rooms[roomId];
  const guildId = guildOfChannel(s, roomId);
  const guild = guildId ? guildOf(s, guildId) : undefined;
  const manage = (p: "manage_channels" | "manage_roles") => (guild ? hasPermission(guild, me, p) : false);
  return {
    send: canSend(room, me),
    react: canSend(room, me, "m.reaction"),
    editTopic: canSetState(room, me, "m.room.topic"),
    rename: canSetState(room, me, "m.room.name"),
    // Anyone else's event: the `redact` level (Concord's delete_messages compiles to it).
    deleteOthers: canRedact(room, me, ""),
    manageChannels: manage("manage_channels"),
    manageRoles: manage("manage_roles"),
    editPermissions: manage("manage_channels") && canSetState(room, me, "im.concord.channel_permissions"),
  };
}

export interface DmSummary {
  roomId: string;
  userId: string;
  name: string;
  avatarUrl?: string;
  status: Status;
  badge: Badge;
  membership: "join" | "invite";
}

/** 1:1 DMs from m.direct (and DM invites flagged is_direct), newest activity first. */
export function dmsOf(s: StoreState): DmSummary[] {
  const out = new Map<string, DmSummary>();
  const add = (roomId: string, userId: string) => {
    const room = s.rooms[roomId];
    if (!room || (room.membership !== "join" && room.membership !== "invite") || out.has(roomId)) return;
    out.set(roomId, {
      roomId,
      userId,
      name: displayName(s, userId, roomId),
      avatarUrl: avatarOf(s, userId, roomId),
      status: statusOf(s, userId),
      badge: roomBadge(s, roomId),
      membership: room.membership,
    });
  };
  for (const [userId, rooms] of Object.entries(s.accountData["m.direct"] ?? {})) {
    if (Array.isArray(rooms)) rooms.forEach((r) => typeof r === "string" && add(r, userId));
  }
  for (const room of Object.values(s.rooms)) {
    const own = s.userId ? room.state["m.room.member"]?.[s.userId] : undefined;
    if (room.membership === "invite" && own?.content["is_direct"] === true && own.sender) add(room.roomId, own.sender);
  }
  const last = (roomId: string) => s.rooms[roomId]?.timeline.at(-1)?.origin_server_ts ?? 0;
  return [...out.values()].sort((a, b) => last(b.roomId) - last(a.roomId));
}

export interface RoomSummary {
  roomId: string;
  name: string;
  avatarUrl?: string;
  topic?: string;
  kind: "text" | "voice";
  badge: Badge;
}

/**
 * Joined rooms that are neither guilds, guild channels nor DMs: the plain Matrix rooms a
 * user of any homeserver has (DESIGN.md "Web client": show plain rooms there), by name.
 */
export function plainRoomsOf(s: StoreState): RoomSummary[] {
  const inGuild = new Set<string>();
  for (const room of Object.values(s.rooms)) {
    if (room.membership === "join" && isSpace(room)) Object.keys(room.state["m.space.child"] ?? {}).forEach((id) => inGuild.add(id));
  }
  return Object.values(s.rooms)
    .filter((room) => room.membership === "join" && !isSpace(room) && !inGuild.has(room.roomId) && !isDirect(s, room.roomId))
    .map((room) => ({
      roomId: room.roomId,
      name: roomName(s, room.roomId),
      avatarUrl: str(room.state["m.room.avatar"]?.[""]?.content["url"]),
      topic: str(room.state["m.room.topic"]?.[""]?.content["topic"]),
      kind: isVoice(room) ? ("voice" as const) : ("text" as const),
      badge: roomBadge(s, room.roomId),
    }))
    .sort((a, b) => a.name.localeCompare(b.name) || (a.roomId < b.roomId ? -1 : 1));
}

