/**
 * What the channel view needs from the guild (the parent space): roles, who holds them,
 * and who may mention which role. A small mirror of homeserver/chat/guild.py and
 * mentions.py, read leniently: malformed content is ignored, as the server ignores it.
 */
import { isObject, type MatrixEvent } from "./events";

export interface Role {
  id: string;
  name: string;
  color?: string;
  position: number;
  permissions: ReadonlySet<string>;
  mentionable: boolean;
}

export interface GuildInfo {
  roles: ReadonlyMap<string, Role>;
  /** User id -> role ids (from im.concord.member_roles, keyed without the "@"). */
  memberRoles: ReadonlyMap<string, readonly string[]>;
  members: ReadonlySet<string>;
  owner?: string;
  creators: ReadonlySet<string>;
}

export const EMPTY_GUILD: GuildInfo = {
  roles: new Map(),
  memberRoles: new Map(),
  members: new Set(),
  creators: new Set(),
};

const ALL_PERMISSIONS = [
  "administrator",
  "manage_guild",
  "manage_channels",
  "manage_roles",
  "kick",
  "ban",
  "delete_messages",
  "mention_roles",
];
const COLOR = /^#[0-9a-fA-F]{6}$/;

/** Read a space's current state events into the guild view. */
export function guildFromState(state: readonly MatrixEvent[]): GuildInfo {
  const roles = new Map<string, Role>();
  const memberRoles = new Map<string, string[]>();
  const members = new Set<string>();
  const creators = new Set<string>();
  let owner: string | undefined;
  for (const event of state) {
    const c = event.content;
    const key = event.state_key;
    if (key === undefined) continue;
    if (event.type === "m.room.member") {
      if (c["membership"] === "join") members.add(key);
    } else if (event.type === "m.room.create") {
      creators.add(event.sender);
      const extra = c["additional_creators"];
      if (Array.isArray(extra)) for (const u of extra) if (typeof u === "string") creators.add(u);
      if (typeof c["im.concord.owner"] === "string") owner = c["im.concord.owner"];
    } else if (event.type === "im.concord.role") {
      if (typeof c["name"] !== "string" || typeof c["position"] !== "number") continue;
      const perms = Array.isArray(c["permissions"]) ? c["permissions"].filter((p) => typeof p === "string") : [];
      roles.set(key, {
        id: key,
        name: c["name"],
        color: typeof c["color"] === "string" && COLOR.test(c["color"]) ? c["color"] : undefined,
        position: c["position"],
        permissions: new Set(perms as string[]),
        mentionable: c["mentionable"] === true,
      });
    } else if (event.type === "im.concord.member_roles") {
      const list = c["roles"];
      if (Array.isArray(list)) memberRoles.set("@" + key, list.filter((r): r is string => typeof r === "string"));
    }
  }
  return { roles, memberRoles, members, owner, creators };
}

/** Existing roles a joined member holds, most senior first. */
export function rolesOf(guild: GuildInfo, userId: string): Role[] {
  if (!guild.members.has(userId)) return [];
  const held = (guild.memberRoles.get(userId) ?? [])
    .map((id) => guild.roles.get(id))
    .filter((r): r is Role => r !== undefined);
  return held.sort((a, b) => b.position - a.position || a.id.localeCompare(b.id));
}

export function permissionsOf(guild: GuildInfo, userId: string): ReadonlySet<string> {
  const outranksAll = guild.creators.has(userId) || (userId === guild.owner && guild.members.has(userId));
  if (outranksAll) return new Set(ALL_PERMISSIONS);
  const held = new Set<string>();
  for (const role of rolesOf(guild, userId)) for (const p of role.permissions) held.add(p);
  return held.has("administrator") ? new Set(ALL_PERMISSIONS) : held;
}

/** The colour a name is shown in: that of the most senior coloured role (as Discord). */
export function nameColor(guild: GuildInfo, userId: string): string | undefined {
  return rolesOf(guild, userId).find((r) => r.color !== undefined)?.color;
}

/** Whether `sender` may mention `role` so that it notifies (mentions.py). */
export function mayMentionRole(guild: GuildInfo, sender: string, role: Role): boolean {
  return role.mentionable || permissionsOf(guild, sender).has("mention_roles");
}

/** Whether a message `content` by `sender` mentions `me` (by id or through a role). */
export function mentionsUser(
  guild: GuildInfo,
  content: Record<string, unknown>,
  sender: string,
  me: string,
): boolean {
  const mentions = content["m.mentions"];
  if (isObject(mentions)) {
    const ids = mentions["user_ids"];
    if (Array.isArray(ids) && ids.includes(me)) return true;
    if (mentions["room"] === true) return true;
  }
  const roleIds = content["im.concord.role_mentions"];
  if (!Array.isArray(roleIds)) return false;
  const mine = new Set(rolesOf(guild, me).map((r) => r.id));
  return roleIds.some((id) => {
    if (typeof id !== "string" || !mine.has(id)) return false;
    const role = guild.roles.get(id);
    return role !== undefined && mayMentionRole(guild, sender, role);
  });
}
