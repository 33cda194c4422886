/**
 * What the shell shows, derived from the store: a guild's roles, categories and channels
 * ready for the sidebar, member list and settings. The rules themselves (reading a
 * space's state, ranks and permissions, mirroring homeserver/chat/guild.py) are
 * web/src/matrix/guild.ts; this module only shapes them for the components.
 */

import {
  avatarOf,
  BANNER,
  canSetState,
  CHANNEL_ACTIONS,
  CHANNEL_PERMISSIONS,
  channelOrder,
  DESCRIPTION_FIELD,
  displayName,
  guildFromRoom,
  highestPosition as rulesHighestPosition,
  isMuted,
  isSpace,
  isVoice,
  mayManageRole as rulesMayManageRole,
  maySetRole,
  MEMBER_ROLES,
  permissionsOf as rulesPermissionsOf,
  PERMISSIONS,
  ROLE,
  rolesOf as rulesRolesOf,
  roomName as storeRoomName,
  sortedCategories,
  sortedRoles,
  type Guild as Rules,
  type RoomState,
  type StoreState,
} from "../../matrix";
import { statusOf, type RoleInfo, type Status } from "../members/grouping";

export { BANNER, CHANNEL_ACTIONS, CHANNEL_PERMISSIONS, DESCRIPTION_FIELD, isSpace, MEMBER_ROLES, PERMISSIONS, ROLE };

type Json = Record<string, unknown>;
/** The store's shapes (kept as names other components import). */
export type RoomLike = RoomState;
export type StateLike = StoreState;

export function content(room: RoomState | undefined, type: string, key = ""): Json | undefined {
  const found = room?.state[type]?.[key]?.content;
  return found && Object.keys(found).length > 0 ? found : undefined;
}

function str(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

export function roomName(room: RoomState | undefined): string {
  return str(content(room, "m.room.name")?.["name"]) ?? room?.roomId ?? "";
}

export interface GuildSummary {
  roomId: string;
  name: string;
  avatar: string | null;
  banner: string | null;
  topic: string | null;
}

export interface ChannelInfo {
  roomId: string;
  category: string | null;
  order: string | null;
  name: string;
  kind: "text" | "voice";
  topic: string | null;
  /** Joined by us (else we cannot read it: not shown). */
  joined: boolean;
  unread: number;
  highlights: number;
}

export interface Guild extends GuildSummary {
  rules: Rules;
  /** Roles, most senior first in iteration order. */
  roles: Map<string, RoleInfo & { permissions: string[]; mentionable: boolean }>;
  members: string[];
  categories: { id: string; name: string; order: number }[];
  channels: ChannelInfo[];
  owner: string | null;
  creators: ReadonlySet<string>;
}

function summary(room: RoomState): GuildSummary {
  return {
    roomId: room.roomId,
    name: roomName(room),
    avatar: str(content(room, "m.room.avatar")?.["url"]),
    banner: str(content(room, BANNER)?.["url"]),
    topic: str(content(room, "m.room.topic")?.["topic"]),
  };
}

/** A guild's badge on the rail: any unread channel (not muted) and its mentions in total. */
export function guildBadge(state: StoreState, guildId: string): { unread: boolean; mentions: number } {
  const room = state.rooms[guildId];
  if (!room) return { unread: false, mentions: 0 };
  const muted = mutedRooms(state);
  let unread = false;
  let mentions = 0;
  for (const channelId of Object.keys(guildFromRoom(room).channels)) {
    const child = state.rooms[channelId];
    if (child?.membership !== "join") continue;
    mentions += child.highlightCount;
    unread ||= child.notificationCount > 0 && !muted.has(channelId);
  }
  return { unread, mentions };
}

export function guildSummaries(state: StoreState): GuildSummary[] {
  return Object.values(state.rooms)
    .filter((r) => r.membership === "join" && isSpace(r))
    .map(summary)
    .sort((a, b) => a.name.localeCompare(b.name) || a.roomId.localeCompare(b.roomId));
}

export function guildOf(state: StoreState, guildId: string): Guild | null {
  const room = state.rooms[guildId];
  if (!room || room.membership !== "join") return null;
  const rules = guildFromRoom(room);
  const roles: Guild["roles"] = new Map();
  for (const r of sortedRoles(rules)) roles.set(r.id, { ...r, permissions: [...r.permissions] });
  const channels = channelOrder(rules).map((roomId): ChannelInfo => {
    const link = rules.channels[roomId]!;
    const child = state.rooms[roomId];
    return {
      roomId,
      // A channel naming a missing category shows with the uncategorised ones.
      category: link.category !== null && link.category in rules.categories ? link.category : null,
      order: link.order,
      name: child ? roomName(child) : "channel",
      kind: isVoice(child) ? "voice" : "text",
      topic: str(content(child, "m.room.topic")?.["topic"]),
      joined: child?.membership === "join",
      unread: child?.notificationCount ?? 0,
      highlights: child?.highlightCount ?? 0,
    };
  });
  return {
    ...summary(room),
    rules,
    roles,
    members: [...rules.members],
    categories: sortedCategories(rules),
    channels,
    owner: rules.owner,
    creators: rules.creators,
  };
}

export function rolesOf(guild: Guild, userId: string): string[] {
  return rulesRolesOf(guild.rules, userId);
}

export function permissionsOf(guild: Guild, userId: string): Set<string> {
  return rulesPermissionsOf(guild.rules, userId);
}

export function highestPosition(guild: Guild, userId: string): number {
  return rulesHighestPosition(guild.rules, userId);
}

/** May `actor` edit role `roleId` (and, given, place it at `newPosition`)? */
export function mayManageRole(guild: Guild, actor: string, roleId: string, newPosition?: number): boolean {
  return newPosition === undefined
    ? rulesMayManageRole(guild.rules, actor, roleId)
    : maySetRole(guild.rules, actor, roleId, newPosition);
}

/** Whether the room's power levels let `userId` send state `type`. */
export function maySendState(room: RoomState | undefined, userId: string, type: string): boolean {
  return canSetState(room, userId, type);
}

/** Rooms muted by a push rule without notify (web/src/matrix views.ts isMuted). */
export function mutedRooms(state: StoreState): Set<string> {
  return new Set(Object.keys(state.rooms).filter((roomId) => isMuted(state, roomId)));
}

/** Channel invites to accept on the user's behalf: rooms a joined guild lists as its channels. */
export function channelInvitesToJoin(state: StoreState): string[] {
  const children = new Set<string>();
  for (const room of Object.values(state.rooms)) {
    if (room.membership === "join" && isSpace(room)) {
      for (const [key, ev] of Object.entries(room.state["m.space.child"] ?? {})) {
        if (Array.isArray(ev.content["via"]) && ev.content["via"].length > 0) children.add(key);
      }
    }
  }
  return Object.values(state.rooms)
    .filter((r) => r.membership === "invite" && children.has(r.roomId))
    .map((r) => r.roomId);
}

export interface UserView {
  userId: string;
  displayName: string;
  avatar: string | null;
  description: string | null;
  status: Status;
}

/** A user as shown anywhere: room member event first (per-room names), then profile. */
export function userView(state: StoreState, userId: string, room?: RoomState): UserView {
  const profile = state.profiles[userId] ?? {};
  return {
    userId,
    displayName: displayName(state, userId, room?.roomId),
    avatar: avatarOf(state, userId, room?.roomId) ?? null,
    description: str(profile[DESCRIPTION_FIELD]),
    status: statusOf(state.presence[userId]?.presence),
  };
}

/** The room's name as the store computes it (heroes for unnamed rooms). */
export const roomTitle = storeRoomName;
