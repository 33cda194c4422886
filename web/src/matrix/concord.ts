// Concord actions: guilds, channels, categories (the im.concord endpoints of
// homeserver/api/client/concord.py), roles, member roles, channel permissions, topic,
// banner — and the drag-and-drop ordering plans behind them.

import type { MatrixClient } from "./client";
import {
  BANNER,
  CHANNEL_PERMISSIONS,
  MEMBER_ROLES,
  ROLE,
  channelOrder,
  guildFromRoom,
  sortedCategories,
  type ChannelAction,
  type Guild,
  type Permission,
} from "./guild";
import { path } from "./http";
import { applyStateEvent } from "./reduce";
import type { Json } from "./types";

const PREFIX = "/_matrix/client/unstable/im.concord";

export interface CreatedChannel {
  room_id: string;
  name: string;
  kind: "text" | "voice";
  category: string | null;
}

/** PUT a state event; the store shows it at once (sync confirms it). */
export async function setState(client: MatrixClient, roomId: string, type: string, stateKey: string, content: Json): Promise<string> {
  const reply = await client.http.put<{ event_id: string }>(path`/_matrix/client/v3/rooms/${roomId}/state/${type}/${stateKey}`, content);
  client.store.update((s) =>
    applyStateEvent(s, roomId, {
      type,
      state_key: stateKey,
      content,
      sender: client.userId,
      event_id: reply.event_id,
      origin_server_ts: client.now(),
    }),
  );
  return reply.event_id;
}

export function createGuild(client: MatrixClient, guild: { name: string; topic?: string; avatar_url?: string; public?: boolean }): Promise<{ room_id: string; channels: CreatedChannel[] }> {
  return client.http.post(`${PREFIX}/guilds`, guild);
}

export async function deleteGuild(client: MatrixClient, guildId: string): Promise<void> {
  await client.http.delete(guildPath(guildId));
}

function guildPath(guildId: string, ...rest: string[]): string {
  return `${PREFIX}/guilds/${encodeURIComponent(guildId)}${rest.map((r) => `/${encodeURIComponent(r)}`).join("")}`;
}

export function createChannel(
  client: MatrixClient,
  guildId: string,
  channel: { name: string; kind?: "text" | "voice"; category?: string | null; topic?: string },
): Promise<CreatedChannel> {
  return client.http.post(guildPath(guildId, "channels"), channel);
}

/** Move and/or rename a channel: `category` null = no category; `order` an m.space.child order. */
export async function updateChannel(
  client: MatrixClient,
  guildId: string,
  channelId: string,
  change: { category?: string | null; order?: string; name?: string },
): Promise<void> {
  await client.http.put(guildPath(guildId, "channels", channelId), change);
}

export async function deleteChannel(client: MatrixClient, guildId: string, channelId: string): Promise<void> {
  await client.http.delete(guildPath(guildId, "channels", channelId));
}

export function createCategory(client: MatrixClient, guildId: string, name: string): Promise<{ category_id: string; name: string; order: number }> {
  return client.http.post(guildPath(guildId, "categories"), { name });
}

export async function updateCategory(client: MatrixClient, guildId: string, categoryId: string, change: { name?: string; order?: number }): Promise<void> {
  await client.http.put(guildPath(guildId, "categories", categoryId), change);
}

export async function deleteCategory(client: MatrixClient, guildId: string, categoryId: string): Promise<void> {
  await client.http.delete(guildPath(guildId, "categories", categoryId));
}

// -- roles -----------------------------------------------------------------------------

export interface RoleFields {
  name: string;
  position: number;
  color?: string;
  permissions?: Permission[];
  mentionable?: boolean;
}

/** A fresh role id (state keys of roles are client-chosen ids, schemas.py). */
export function newRoleId(): string {
  const random = typeof crypto !== "undefined" && "randomUUID" in crypto ? crypto.randomUUID().replace(/-/g, "").slice(0, 12) : Math.random().toString(36).slice(2, 14);
  return `r${random}`;
}

/** Create or edit a role (im.concord.role state of the guild space). */
export function setRole(client: MatrixClient, guildId: string, roleId: string, fields: RoleFields): Promise<string> {
  const content: Json = { name: fields.name, position: fields.position };
  if (fields.color) content["color"] = fields.color;
  if (fields.permissions) content["permissions"] = [...new Set(fields.permissions)];
  if (fields.mentionable !== undefined) content["mentionable"] = fields.mentionable;
  return setState(client, guildId, ROLE, roleId, content);
}

/** Delete a role ({} is how Concord state is deleted). */
export function deleteRole(client: MatrixClient, guildId: string, roleId: string): Promise<string> {
  return setState(client, guildId, ROLE, roleId, {});
}

/** Set a member's roles (state key: the user id without its "@"). */
export function setMemberRoles(client: MatrixClient, guildId: string, userId: string, roles: string[]): Promise<string> {
  return setState(client, guildId, MEMBER_ROLES, userId.replace(/^@/, ""), { roles: [...new Set(roles)] });
}

/** Restrict a channel's read/write/edit_description to roles (a missing action = everyone). */
export function setChannelPermissions(client: MatrixClient, channelId: string, perms: Partial<Record<ChannelAction, string[]>>): Promise<string> {
  const content: Json = {};
  for (const [action, roles] of Object.entries(perms)) {
    if (roles) content[action] = [...new Set(roles)];
  }
  return setState(client, channelId, CHANNEL_PERMISSIONS, "", content);
}

export function setTopic(client: MatrixClient, roomId: string, topic: string): Promise<string> {
  return setState(client, roomId, "m.room.topic", "", { topic });
}

export function setRoomName(client: MatrixClient, roomId: string, name: string): Promise<string> {
  return setState(client, roomId, "m.room.name", "", { name });
}

export function setRoomAvatar(client: MatrixClient, roomId: string, mxc: string | null): Promise<string> {
  return setState(client, roomId, "m.room.avatar", "", mxc ? { url: mxc } : {});
}

/** The guild header's banner image (im.concord.banner {url}); null removes it. */
export function setBanner(client: MatrixClient, guildId: string, mxc: string | null): Promise<string> {
  return setState(client, guildId, BANNER, "", mxc ? { url: mxc } : {});
}

// -- drag and drop ordering (pure) ---------------------------------------------------------

const ORDER_MIN = 0x20;
const ORDER_MAX = 0x7e;

/**
 * A string strictly between `before` and `after` in code-point order (spec: "Spaces":
 * m.space.child `order` is compared lexicographically; printable ASCII, ≤ 50 chars).
 * Null when none fits (then the group is renumbered).
 */
export function orderBetween(before: string | null, after: string | null): string | null {
  const lo = before ?? "";
  if (after !== null && lo >= after) return null;
  let out = "";
  // Whether `out` is still equal to the prefix of `lo` / `after`: only then do their
  // characters bound the next one.
  let tightLo = true;
  let tightHi = after !== null;
  for (let i = 0; i < 50; i++) {
    const a: number = tightLo && i < lo.length ? lo.charCodeAt(i) : ORDER_MIN - 1;
    // Equal to all of `after` so far: anything longer sorts after it.
    if (tightHi && after !== null && i >= after.length) return null;
    const b: number = tightHi && after !== null ? after.charCodeAt(i) : ORDER_MAX + 1;
    if (b - a > 1) return out + String.fromCharCode(Math.floor((a + b) / 2));
    // No room at this position: copy a bound and go one character deeper.
    const c: number = a >= ORDER_MIN ? a : b;
    out += String.fromCharCode(c);
    tightLo = tightLo && c === a;
    tightHi = tightHi && c === b;
  }
  return null;
}

/** Evenly spaced orders for `n` channels ("0000100", "0000200", ...), like the server's. */
export function spacedOrders(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String((i + 1) * 100).padStart(8, "0"));
}

export interface ChannelMovePlan {
  roomId: string;
  category: string | null;
  order: string;
}

/**
 * What to PUT to move `channelId` to position `index` of `category` (null: the
 * uncategorised group): usually one move with an order between its new neighbours;
 * when the neighbours leave no room (or have no order), the whole group is renumbered.
 */
export function planChannelMove(guild: Guild, channelId: string, category: string | null, index: number): ChannelMovePlan[] {
  const group = channelOrder(guild).filter((id) => id !== channelId && (guild.channels[id]?.category ?? null) === normalise(guild, category));
  const at = Math.max(0, Math.min(index, group.length));
  const before = at > 0 ? guild.channels[group[at - 1]!]!.order : null;
  const after = at < group.length ? guild.channels[group[at]!]!.order : null;
  const neighboursOrdered = (at === 0 || before !== null) && (at === group.length || after !== null);
  const between = neighboursOrdered ? orderBetween(before, after) : null;
  if (between !== null) return [{ roomId: channelId, category, order: between }];
  const ids = [...group.slice(0, at), channelId, ...group.slice(at)];
  const orders = spacedOrders(ids.length);
  return ids
    .map((roomId, i) => ({ roomId, category, order: orders[i]! }))
    .filter((m) => m.roomId === channelId || guild.channels[m.roomId]?.order !== m.order);
}

function normalise(guild: Guild, category: string | null): string | null {
  return category !== null && category in guild.categories ? category : null;
}

/** New `order` values for the categories after moving `categoryId` to `index`. */
export function planCategoryMove(guild: Guild, categoryId: string, index: number): { categoryId: string; order: number }[] {
  const rest = sortedCategories(guild).filter((c) => c.id !== categoryId);
  const at = Math.max(0, Math.min(index, rest.length));
  const ids = [...rest.slice(0, at).map((c) => c.id), categoryId, ...rest.slice(at).map((c) => c.id)];
  return ids
    .map((id, i) => ({ categoryId: id, order: (i + 1) * 100 }))
    .filter((m) => guild.categories[m.categoryId]?.order !== m.order);
}

/** Carry out a channel drag-and-drop. */
export async function moveChannel(client: MatrixClient, guildId: string, channelId: string, category: string | null, index: number): Promise<void> {
  const space = client.store.room(guildId);
  if (!space) return;
  for (const move of planChannelMove(guildFromRoom(space), channelId, category, index)) {
    await updateChannel(client, guildId, move.roomId, { category: move.category, order: move.order });
  }
}

/** Carry out a category drag-and-drop (its channels follow: they name the category). */
export async function moveCategory(client: MatrixClient, guildId: string, categoryId: string, index: number): Promise<void> {
  const space = client.store.room(guildId);
  if (!space) return;
  for (const move of planCategoryMove(guildFromRoom(space), categoryId, index)) {
    await updateCategory(client, guildId, move.categoryId, { order: move.order });
  }
}
