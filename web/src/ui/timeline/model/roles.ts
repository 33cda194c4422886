/**
 * Role-dependent looks of the channel view, over the guild model of web/src/matrix
 * (which mirrors homeserver/chat/guild.py): name colours, which roles I may mention, and
 * whether a message mentions me — by id, @room, or through a role *the sender may
 * mention* (homeserver/chat/mentions.py: a role notifies only when it is mentionable or
 * the sender holds `mention_roles`), so the highlight matches the server's notification.
 */
import { permissionsOf, type Guild, type Role, roleMembers, rolesOf } from "../../../matrix";

/** The colour a name is shown in: that of the most senior coloured role (as Discord). */
export function nameColor(guild: Guild | undefined, userId: string): string | undefined {
  if (!guild) return undefined;
  const held = rolesOf(guild, userId)
    .map((id) => guild.roles[id])
    .filter((r): r is Role => r !== undefined && r.color !== null)
    .sort((a, b) => b.position - a.position);
  return held[0]?.color ?? undefined;
}

/** Whether `sender` may mention `role` so that it notifies. */
export function mayMentionRole(guild: Guild, sender: string, role: Role): boolean {
  return role.mentionable || permissionsOf(guild, sender).has("mention_roles");
}

/** Whether a message `content` by `sender` mentions `me`. */
export function mentionsMe(guild: Guild | undefined, content: Record<string, unknown>, sender: string, me: string): boolean {
  const mentions = content["m.mentions"];
  if (mentions && typeof mentions === "object") {
    const m = mentions as { user_ids?: unknown; room?: unknown };
    if (Array.isArray(m.user_ids) && m.user_ids.includes(me)) return true;
    if (m.room === true) return true;
  }
  const roleIds = content["im.concord.role_mentions"];
  if (!guild || !Array.isArray(roleIds)) return false;
  return roleIds.some((id) => {
    const role = typeof id === "string" ? guild.roles[id] : undefined;
    return role !== undefined && mayMentionRole(guild, sender, role) && roleMembers(guild, role.id).includes(me);
  });
}
