/**
 * Role-dependent looks of the channel view, over the guild model of web/src/matrix
 * (which mirrors homeserver/chat/guild.py): name colours. Who a message mentions, and
 * which roles a sender may mention, is web/src/matrix/mentions.ts (one rule, the
 * server's).
 */
import { type Guild, type Role, rolesOf } from "../../../matrix";

/** The colour a name is shown in: that of the most senior coloured role (as Discord). */
export function nameColor(guild: Guild | undefined, userId: string): string | undefined {
  if (!guild) return undefined;
  const held = rolesOf(guild, userId)
    .map((id) => guild.roles[id])
    .filter((r): r is Role => r !== undefined && r.color !== null)
    .sort((a, b) => b.position - a.position);
  return held[0]?.color ?? undefined;
}
