/**
 * What the shell shows, derived from the store (web/src/matrix): guilds, their roles,
 * categories and channels, DMs and invites. Pure functions of a structural subset of the
 * store's state (so they take W1's `StoreState` as it is), mirroring homeserver/chat/guild.py
 * for ranks and permissions so the UI offers exactly what the server will allow.
 */

import { type ChannelPlace } from "../channels/dnd";
import { statusOf, type RoleInfo, type Status } from "../members/grouping";

type Json = Record<string, unknown>;

export interface RoomLike {
  roomId: string;
  membership: string;
  state: Record<string, Record<string, { content: Json; sender?: string }>>;
  notificationCount: number;
  highlightCount: number;
  accountData: Record<string, Json>;
}

export interface StateLike {
  userId: string | null;
  rooms: Record<string, RoomLike>;
  presence: Record<string, { presence: string }>;
  profiles: Record<string, Json>;
  accountData: Record<string, Json>;
}

// homeserver/chat/event_types.py
export const ROLE = "im.concord.role";
export const MEMBER_ROLES = "im.concord.member_roles";
export const CATEGORY = "im.concord.category";
export const BANNER = "im.concord.banner";
export const CHANNEL_PERMISSIONS = "im.concord.channel_permissions";
export const VOICE_ROOM_TYPE = "im.concord.voice";
export const DESCRIPTION_FIELD = "im.concord.description";
export const PERMISSIONS = [
  "administrator",
  "manage_guild",
  "manage_channels",
  "manage_roles",
  "kick",
  "ban",
  "delete_messages",
  "mention_roles",
] as const;
export const CHANNEL_ACTIONS = ["read", "write", "edit_description"] as const;
const OUTRANKS_ALL = 1001;

export function content(room: RoomLike | undefined, type: string, key = ""): Json | undefined {
  const found = room?.state[type]?.[key]?.content;
  return found && Object.keys(found).length > 0 ? found : undefined;
}

function str(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

export function isSpace(room: RoomLike): boolean {
  return content(room, "m.room.create")?.["type"] === "m.space";
}

export function roomName(room: RoomLike | undefined): string {
  return str(content(room, "m.room.name")?.["name"]) ?? room?.roomId ?? "";
}

export interface GuildSummary {
  roomId: string;
  name: string;
  avatar: string | null;
  banner: string | null;
  topic: string | null;
}

export interface ChannelInfo extends ChannelPlace {
  name: string;
  kind: "text" | "voice";
  topic: string | null;
  /** Joined by us (else we cannot read it: not shown). */
  joined: boolean;
  unread: number;
  highlights: number;
}

export interface Guild extends GuildSummary {
  roles: Map<string, RoleInfo & { permissions: string[]; mentionable: boolean }>;
  memberRoles: Map<string, string[]>;
  members: string[];
  categories: { id: string; name: string; order: number }[];
  channels: ChannelInfo[];
  owner: string | null;
  creators: Set<string>;
}

export function guildSummaries(state: StateLike): GuildSummary[] {
  return Object.values(state.rooms)
    .filter((r) => r.membership === "join" && isSpace(r))
    .map((r) => summary(r))
    .sort((a, b) => a.name.localeCompare(b.name) || a.roomId.localeCompare(b.roomId));
}

function summary(room: RoomLike): GuildSummary {
  return {
    roomId: room.roomId,
    name: roomName(room),
    avatar: str(content(room, "m.room.avatar")?.["url"]),
    banner: str(content(room, BANNER)?.["url"]),
    topic: str(content(room, "m.room.topic")?.["topic"]),
  };
}

export function guildOf(state: StateLike, guildId: string): Guild | null {
  const room = state.rooms[guildId];
  if (!room || room.membership !== "join") return null;
  const roles: Guild["roles"] = new Map();
  for (const [id, ev] of Object.entries(room.state[ROLE] ?? {})) {
    const c = ev.content;
    if (typeof c["name"] !== "string" || typeof c["position"] !== "number") continue;
    roles.set(id, {
      id,
      name: c["name"],
      color: typeof c["color"] === "string" ? c["color"] : null,
      position: c["position"],
      permissions: Array.isArray(c["permissions"]) ? (c["permissions"] as string[]) : [],
      mentionable: c["mentionable"] === true,
    });
  }
  const memberRoles = new Map<string, string[]>();
  for (const [key, ev] of Object.entries(room.state[MEMBER_ROLES] ?? {})) {
    if (Array.isArray(ev.content["roles"])) memberRoles.set(`@${key}`, ev.content["roles"] as string[]);
  }
  const members = Object.entries(room.state["m.room.member"] ?? {})
    .filter(([, ev]) => ev.content["membership"] === "join")
    .map(([userId]) => userId);
  const categories = Object.entries(room.state[CATEGORY] ?? {})
    .filter(([, ev]) => typeof ev.content["name"] === "string" && typeof ev.content["order"] === "number")
    .map(([id, ev]) => ({ id, name: ev.content["name"] as string, order: ev.content["order"] as number }))
    .sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
  const known = new Set(categories.map((c) => c.id));
  const channels: ChannelInfo[] = [];
  for (const [roomId, ev] of Object.entries(room.state["m.space.child"] ?? {})) {
    const via = ev.content["via"];
    if (!Array.isArray(via) || via.length === 0) continue; // spec: no via, no child
    const child = state.rooms[roomId];
    const cat = str(ev.content["im.concord.category"]);
    channels.push({
      roomId,
      category: cat !== null && known.has(cat) ? cat : null,
      order: typeof ev.content["order"] === "string" ? ev.content["order"] : null,
      name: child ? roomName(child) : "channel",
      kind: content(child, "m.room.create")?.["type"] === VOICE_ROOM_TYPE ? "voice" : "text",
      topic: str(content(child, "m.room.topic")?.["topic"]),
      joined: child?.membership === "join",
      unread: child?.notificationCount ?? 0,
      highlights: child?.highlightCount ?? 0,
    });
  }
  const catOrder = new Map(categories.map((c, i) => [c.id, i]));
  channels.sort(
    (a, b) =>
      (a.category === null ? -1 : catOrder.get(a.category)!) - (b.category === null ? -1 : catOrder.get(b.category)!) ||
      (a.order === null ? 1 : 0) - (b.order === null ? 1 : 0) ||
      (a.order ?? "").localeCompare(b.order ?? "") ||
      a.roomId.localeCompare(b.roomId),
  );
  const create = content(room, "m.room.create") ?? {};
  const creators = new Set<string>();
  const createSender = room.state["m.room.create"]?.[""]?.sender;
  if (createSender) creators.add(createSender);
  if (Array.isArray(create["additional_creators"])) {
    for (const u of create["additional_creators"]) if (typeof u === "string") creators.add(u);
  }
  return {
    ...summary(room),
    roles,
    memberRoles,
    members,
    categories,
    channels,
    owner: str(create["im.concord.owner"]),
    creators,
  };
}

/** guild.py roles_of: existing roles of a joined member. */
export function rolesOf(guild: Guild, userId: string): string[] {
  if (!guild.members.includes(userId)) return [];
  return (guild.memberRoles.get(userId) ?? []).filter((r) => guild.roles.has(r));
}

function outranksAll(guild: Guild, userId: string): boolean {
  return guild.creators.has(userId) || (userId === guild.owner && guild.members.includes(userId));
}

/** guild.py permissions_of: administrator implies every permission. */
export function permissionsOf(guild: Guild, userId: string): Set<string> {
  if (outranksAll(guild, userId)) return new Set(PERMISSIONS);
  const held = new Set<string>();
  for (const r of rolesOf(guild, userId)) for (const p of guild.roles.get(r)!.permissions) held.add(p);
  return held.has("administrator") ? new Set(PERMISSIONS) : held;
}

/** guild.py highest_position. */
export function highestPosition(guild: Guild, userId: string): number {
  if (outranksAll(guild, userId)) return OUTRANKS_ALL;
  return Math.max(-1, ...rolesOf(guild, userId).map((r) => guild.roles.get(r)!.position));
}

/** guild.py may_manage_role / may_set_role, for showing only what will be allowed. */
export function mayManageRole(guild: Guild, actor: string, roleId: string | null, newPosition?: number): boolean {
  if (!permissionsOf(guild, actor).has("manage_roles")) return false;
  const rank = highestPosition(guild, actor);
  const role = roleId === null ? undefined : guild.roles.get(roleId);
  if (role !== undefined && role.position >= rank) return false;
  return newPosition === undefined || newPosition < rank;
}

/** Whether the room's power levels let `userId` send state `type` (spec: m.room.power_levels). */
export function maySendState(room: RoomLike | undefined, userId: string, type: string): boolean {
  const pl = content(room, "m.room.power_levels");
  if (!pl) return false;
  const users = (pl["users"] ?? {}) as Record<string, number>;
  const events = (pl["events"] ?? {}) as Record<string, number>;
  const mine = users[userId] ?? (typeof pl["users_default"] === "number" ? pl["users_default"] : 0);
  const needed = events[type] ?? (typeof pl["state_default"] === "number" ? pl["state_default"] : 50);
  return mine >= needed;
}

export interface DmInfo {
  roomId: string;
  other: string;
  unread: number;
}

/** 1:1 DMs from m.direct account data (spec: "Direct Messaging"), joined ones only. */
export function dmsOf(state: StateLike): DmInfo[] {
  const direct = state.accountData["m.direct"] ?? {};
  const out: DmInfo[] = [];
  for (const [other, rooms] of Object.entries(direct)) {
    if (!Array.isArray(rooms)) continue;
    for (const roomId of rooms) {
      const room = typeof roomId === "string" ? state.rooms[roomId] : undefined;
      if (room?.membership === "join") out.push({ roomId: room.roomId, other, unread: room.notificationCount });
    }
  }
  return out.sort((a, b) => a.other.localeCompare(b.other));
}

export interface InviteInfo {
  roomId: string;
  name: string;
  inviter: string | null;
  isSpace: boolean;
}

export function invitesOf(state: StateLike): InviteInfo[] {
  return Object.values(state.rooms)
    .filter((r) => r.membership === "invite")
    .map((r) => ({
      roomId: r.roomId,
      name: roomName(r),
      inviter: (state.userId && r.state["m.room.member"]?.[state.userId]?.sender) || null,
      isSpace: isSpace(r),
    }));
}

/** The parent guild of a channel we were invited to (m.space.parent in its stripped state). */
export function parentOf(room: RoomLike): string | null {
  const parents = Object.keys(room.state["m.space.parent"] ?? {});
  return parents[0] ?? null;
}

export interface UserView {
  userId: string;
  displayName: string;
  avatar: string | null;
  description: string | null;
  status: Status;
}

/** A user as shown anywhere: room member event first (it carries per-room names), then profile. */
export function userView(state: StateLike, userId: string, room?: RoomLike): UserView {
  const member = room ? content(room, "m.room.member", userId) : undefined;
  const profile = state.profiles[userId] ?? {};
  const localpart = userId.replace(/^@/, "").split(":")[0] ?? userId;
  return {
    userId,
    displayName: str(member?.["displayname"]) ?? str(profile["displayname"]) ?? localpart,
    avatar: str(member?.["avatar_url"]) ?? str(profile["avatar_url"]),
    description: str(profile[DESCRIPTION_FIELD]),
    status: statusOf(state.presence[userId]?.presence),
  };
}

/**
 * Muted rooms: room push rules (spec: "Push Rules", kind `room`, rule_id = room id) that
 * are enabled and do not notify (no actions, or the legacy "dont_notify"), read from the
 * `m.push_rules` account data the server keeps current in /sync.
 */
export function mutedRooms(state: StateLike): Set<string> {
  const global = (state.accountData["m.push_rules"]?.["global"] ?? {}) as Record<string, unknown>;
  const rules = Array.isArray(global["room"]) ? (global["room"] as Json[]) : [];
  const out = new Set<string>();
  for (const rule of rules) {
    const actions = rule["actions"];
    const silent = Array.isArray(actions) && actions.every((a) => a === "dont_notify");
    if (typeof rule["rule_id"] === "string" && rule["enabled"] !== false && silent) out.add(rule["rule_id"]);
  }
  return out;
}

/** Channel invites to accept on the user's behalf: rooms a joined guild lists as its channels. */
export function channelInvitesToJoin(state: StateLike): string[] {
  const children = new Set<string>();
  for (const room of Object.values(state.rooms)) {
    if (room.membership === "join" && isSpace(room)) {
      for (const key of Object.keys(room.state["m.space.child"] ?? {})) children.add(key);
    }
  }
  return Object.values(state.rooms)
    .filter((r) => r.membership === "invite" && children.has(r.roomId))
    .map((r) => r.roomId);
}
