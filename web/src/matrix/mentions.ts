// Whether a message mentions a user: the one rule the client uses, mirroring what makes
// the server notify (homeserver/chat/mentions.py). A user is mentioned by
// `m.mentions.user_ids` or `m.mentions.room` (spec: client-server "User and room
// mentions"), or through `im.concord.role_mentions` for a role they hold — but a role
// counts only when it is mentionable or the sender holds `mention_roles`, so a highlight
// never shows where the server sent no notification.
import { permissionsOf, ROLE_MENTIONS, roleMembers, type Guild, type Role } from "./guild";

type Json = Record<string, unknown>;

/** Whether `sender` may mention `role` so that it notifies its members. */
export function mayMentionRole(guild: Guild, sender: string, role: Role): boolean {
  return role.mentionable || permissionsOf(guild, sender).has("mention_roles");
}

/**
 * Does `content`, sent by `sender`, mention `me`? `guild`: the guild of the room it was
 * sent in (null outside guilds, where role mentions mean nothing). One's own messages
 * never mention oneself.
 */
export function mentionsUser(content: Json, sender: string, me: string | null, guild: Guild | null | undefined): boolean {
  if (!me || sender === me) return false;
  const mentions = content["m.mentions"];
  if (mentions && typeof mentions === "object") {
    const m = mentions as { user_ids?: unknown; room?: unknown };
    if (Array.isArray(m.user_ids) && m.user_ids.includes(me)) return true;
    if (m.room === true) return true;
  }
  const roleIds = content[ROLE_MENTIONS];
  if (!guild || !Array.isArray(roleIds)) return false;
  return roleIds.some((id) => {
    const role = typeof id === "string" ? guild.roles[id] : undefined;
    return role !== undefined && mayMentionRole(guild, sender, role) && roleMembers(guild, role.id).includes(me);
  });
}
