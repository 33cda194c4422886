// The guild model in TypeScript: a mirror of homeserver/chat/guild.py (and the shapes of
// homeserver/chat/schemas.py). Read leniently, as the server does: content that fails
// the schema is ignored as if absent, so a malformed role grants nothing. Keep the two in
// step: the server enforces, this only decides what the UI offers.

import type { RoomState } from "./store";
import type { Json } from "./types";

// homeserver/chat/event_types.py
export const ROLE = "im.concord.role";
export const MEMBER_ROLES = "im.concord.member_roles";
export const CATEGORY = "im.concord.category";
export const BANNER = "im.concord.banner";
export const CHANNEL_PERMISSIONS = "im.concord.channel_permissions";
export const SPACE_CHILD = "m.space.child";
export const SPACE_PARENT = "m.space.parent";
export const CHILD_CATEGORY_FIELD = "im.concord.category";
export const ROLE_MENTIONS = "im.concord.role_mentions";
export const DESCRIPTION_FIELD = "im.concord.description";
export const UI_ACCOUNT_DATA = "im.concord.ui";
export const VOICE_ROOM_TYPE = "im.concord.voice";
export const OWNER_FIELD = "im.concord.owner";
export const CALL_MEMBER = "org.matrix.msc3401.call.member";
export const ADMIN_ROLE_ID = "admin";
export const ROLE_POSITION_MAX = 1000;
export const OUTRANKS_ALL = ROLE_POSITION_MAX + 1;
export const NO_ROLE = -1;

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
export type Permission = (typeof PERMISSIONS)[number];
export const CHANNEL_ACTIONS = ["read", "write", "edit_description"] as const;
export type ChannelAction = (typeof CHANNEL_ACTIONS)[number];

export interface Role {
  id: string;
  name: string;
  color: string | null;
  position: number;
  permissions: ReadonlySet<string>;
  mentionable: boolean;
}

export interface Category {
  id: string;
  name: string;
  order: number;
}

export interface ChannelLink {
  roomId: string;
  order: string | null;
  category: string | null;
}

export interface Guild {
  roomId: string;
  roles: Record<string, Role>;
  memberRoles: Record<string, ReadonlySet<string>>;
  members: ReadonlySet<string>;
  categories: Record<string, Category>;
  channels: Record<string, ChannelLink>;
  owner: string | null;
  creators: ReadonlySet<string>;
}

const ID = /^[A-Za-z0-9._~-]{1,64}$/;
const COLOR = /^#[0-9a-fA-F]{6}$/;

export function isValidId(value: unknown): value is string {
  return typeof value === "string" && ID.test(value);
}

function isName(value: unknown): value is string {
  return typeof value === "string" && value.length >= 1 && value.length <= 100 && value.trim() !== "";
}

function isInt(value: unknown, low: number, high: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= low && value <= high;
}

function idList(value: unknown): string[] | null {
  if (!Array.isArray(value) || value.length > 250 || !value.every(isValidId)) return null;
  return new Set(value).size === value.length ? (value as string[]) : null;
}

function onlyKeys(content: Json, known: string[]): boolean {
  return Object.keys(content).every((k) => known.includes(k));
}

/** A role's content as the server validates it (schemas.py `_role`), or null. */
export function parseRole(id: string, c: Json): Role | null {
  if (!isValidId(id) || !onlyKeys(c, ["name", "position", "permissions", "color", "mentionable"])) return null;
  if (!isName(c["name"]) || !isInt(c["position"], 0, ROLE_POSITION_MAX)) return null;
  const perms = c["permissions"] ?? [];
  if (!Array.isArray(perms) || !perms.every((p) => (PERMISSIONS as readonly unknown[]).includes(p))) return null;
  if (new Set(perms).size !== perms.length) return null;
  if ("color" in c && (typeof c["color"] !== "string" || !COLOR.test(c["color"]))) return null;
  if ("mentionable" in c && typeof c["mentionable"] !== "boolean") return null;
  return {
    id,
    name: c["name"],
    color: typeof c["color"] === "string" ? c["color"] : null,
    position: c["position"],
    permissions: new Set(perms as string[]),
    mentionable: c["mentionable"] === true,
  };
}

/** Room creators (room v12: the create event's sender plus additional_creators). */
export function creatorsOf(room: RoomState): Set<string> {
  const create = room.state["m.room.create"]?.[""];
  const out = new Set<string>();
  if (!create) return out;
  if (create.sender) out.add(create.sender);
  const extra = create.content["additional_creators"];
  if (Array.isArray(extra)) extra.forEach((u) => typeof u === "string" && out.add(u));
  return out;
}

/** Read a guild space's current state (guild.py `guild_from_state`). */
export function guildFromRoom(room: RoomState): Guild {
  const roles: Record<string, Role> = {};
  const memberRoles: Record<string, ReadonlySet<string>> = {};
  const members = new Set<string>();
  const categories: Record<string, Category> = {};
  const channels: Record<string, ChannelLink> = {};
  for (const [userId, ev] of Object.entries(room.state["m.room.member"] ?? {})) {
    if (ev.content["membership"] === "join") members.add(userId);
  }
  for (const [id, ev] of Object.entries(room.state[ROLE] ?? {})) {
    const role = parseRole(id, ev.content);
    if (role) roles[id] = role;
  }
  for (const [key, ev] of Object.entries(room.state[MEMBER_ROLES] ?? {})) {
    const list = onlyKeys(ev.content, ["roles"]) ? idList(ev.content["roles"]) : null;
    if (list && !key.startsWith("@") && key.includes(":")) memberRoles[`@${key}`] = new Set(list);
  }
  for (const [id, ev] of Object.entries(room.state[CATEGORY] ?? {})) {
    const c = ev.content;
    if (isValidId(id) && onlyKeys(c, ["name", "order"]) && isName(c["name"]) && isInt(c["order"], 0, 2 ** 31 - 1)) {
      categories[id] = { id, name: c["name"], order: c["order"] };
    }
  }
  for (const [roomId, ev] of Object.entries(room.state[SPACE_CHILD] ?? {})) {
    const c = ev.content;
    // spec: "Spaces": a child without a valid `via` is not a child.
    if (!Array.isArray(c["via"]) || c["via"].length === 0) continue;
    const order = c["order"];
    const validOrder = typeof order === "string" && order.length <= 50 && /^[\x20-\x7e]*$/.test(order);
    if ("order" in c && !validOrder) continue;
    const category = c[CHILD_CATEGORY_FIELD];
    if (category !== undefined && !isValidId(category)) continue;
    channels[roomId] = {
      roomId,
      order: validOrder ? (order as string) : null,
      category: typeof category === "string" ? category : null,
    };
  }
  const create = room.state["m.room.create"]?.[""]?.content ?? {};
  const owner = typeof create[OWNER_FIELD] === "string" ? (create[OWNER_FIELD] as string) : null;
  return { roomId: room.roomId, roles, memberRoles, members, categories, channels, owner, creators: creatorsOf(room) };
}

function outranksAll(g: Guild, userId: string): boolean {
  return g.creators.has(userId) || (userId === g.owner && g.members.has(userId));
}

/** The existing roles a joined member holds. */
export function rolesOf(g: Guild, userId: string): string[] {
  if (!g.members.has(userId)) return [];
  return [...(g.memberRoles[userId] ?? [])].filter((r) => r in g.roles);
}

/** Guild-wide permissions; `administrator` implies all of them. */
export function permissionsOf(g: Guild, userId: string): Set<string> {
  if (outranksAll(g, userId)) return new Set(PERMISSIONS);
  const held = new Set<string>();
  for (const roleId of rolesOf(g, userId)) g.roles[roleId]!.permissions.forEach((p) => held.add(p));
  return held.has("administrator") ? new Set(PERMISSIONS) : held;
}

export function hasPermission(g: Guild, userId: string, permission: Permission): boolean {
  return permissionsOf(g, userId).has(permission);
}

export function highestPosition(g: Guild, userId: string): number {
  if (outranksAll(g, userId)) return OUTRANKS_ALL;
  return Math.max(NO_ROLE, ...rolesOf(g, userId).map((r) => g.roles[r]!.position));
}

/** May `actor` edit or delete role `roleId` (or create it when absent)? */
export function mayManageRole(g: Guild, actor: string, roleId: string): boolean {
  if (!permissionsOf(g, actor).has("manage_roles")) return false;
  const role = g.roles[roleId];
  return role === undefined || role.position < highestPosition(g, actor);
}

/** May `actor` write role `roleId` at `newPosition` (null: delete it)? */
export function maySetRole(g: Guild, actor: string, roleId: string, newPosition: number | null): boolean {
  if (!mayManageRole(g, actor, roleId)) return false;
  return newPosition === null || newPosition < highestPosition(g, actor);
}

/** May `actor` set `target`'s roles to `newRoles`? (guild.py `may_assign_roles`) */
export function mayAssignRoles(g: Guild, actor: string, target: string, newRoles: Iterable<string>): boolean {
  if (!permissionsOf(g, actor).has("manage_roles")) return false;
  const rank = highestPosition(g, actor);
  if (target !== actor && highestPosition(g, target) >= rank) return false;
  const next = new Set(newRoles);
  const old = g.memberRoles[target] ?? new Set<string>();
  const changed = [...old].filter((r) => !next.has(r)).concat([...next].filter((r) => !old.has(r)));
  for (const roleId of changed) {
    const role = g.roles[roleId];
    if (!role) {
      if (next.has(roleId)) return false;
      continue;
    }
    if (role.position >= rank) return false;
  }
  return true;
}

/** Joined members holding `roleId`. */
export function roleMembers(g: Guild, roleId: string): string[] {
  if (!(roleId in g.roles)) return [];
  return Object.entries(g.memberRoles)
    .filter(([user, roles]) => roles.has(roleId) && g.members.has(user))
    .map(([user]) => user);
}

/** Roles, most senior first (position desc, then id). */
export function sortedRoles(g: Guild): Role[] {
  return Object.values(g.roles).sort((a, b) => b.position - a.position || (a.id < b.id ? -1 : 1));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Categories in display order (order, then id). */
export function sortedCategories(g: Guild): Category[] {
  return Object.values(g.categories).sort((a, b) => a.order - b.order || cmp(a.id, b.id));
}

/**
 * Channel room ids in display order (guild.py `channel_order`): uncategorised first, then
 * by category (order, id); within a group by m.space.child `order` (ordered ones first,
 * compared by code point, spec "Spaces"), then room id.
 */
export function channelOrder(g: Guild): string[] {
  const key = (link: ChannelLink): [number, number, string, number, string, string] => {
    const category = link.category ? g.categories[link.category] : undefined;
    const group: [number, number, string] = category ? [1, category.order, category.id] : [0, 0, ""];
    return [...group, link.order !== null ? 0 : 1, link.order ?? "", link.roomId];
  };
  const compare = (a: ReturnType<typeof key>, b: ReturnType<typeof key>): number => {
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      const y = b[i]!;
      const c = typeof x === "number" ? x - (y as number) : cmp(x, y as string);
      if (c !== 0) return c;
    }
    return 0;
  };
  return Object.values(g.channels)
    .map((link) => [key(link), link.roomId] as const)
    .sort((a, b) => compare(a[0], b[0]))
    .map(([, roomId]) => roomId);
}

/** A channel's im.concord.channel_permissions: action → allowed role ids (absent = everyone). */
export function channelPermissions(channel: RoomState | undefined): Partial<Record<ChannelAction, string[]>> {
  const content = channel?.state[CHANNEL_PERMISSIONS]?.[""]?.content ?? {};
  const out: Partial<Record<ChannelAction, string[]>> = {};
  if (!onlyKeys(content, [...CHANNEL_ACTIONS])) return out;
  for (const action of CHANNEL_ACTIONS) {
    if (!(action in content)) continue;
    const list = idList(content[action]);
    // As guild.py: malformed content is read as absent, all of it.
    if (!list) return {};
    out[action] = list;
  }
  return out;
}
