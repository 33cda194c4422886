// Who may mute someone else for everyone: the SFU's rule (sfu/access.py may_moderate,
// checked against the room's power levels): at least the room's `kick` level and above
// the target's level (spec: client-server "m.room.power_levels"; kick defaults to 50).

import type { RoomLike } from "../shell/model";

function level(content: Record<string, unknown>, userId: string): number {
  const users = (content["users"] ?? {}) as Record<string, unknown>;
  const own = users[userId];
  if (typeof own === "number") return own;
  const fallback = content["users_default"];
  return typeof fallback === "number" ? fallback : 0;
}

export function mayModerate(room: RoomLike | undefined, moderator: string, target: string): boolean {
  const content = room?.state["m.room.power_levels"]?.[""]?.content;
  if (!content) return false;
  const kick = typeof content["kick"] === "number" ? content["kick"] : 50;
  const mine = level(content, moderator);
  return mine >= kick && mine > level(content, target);
}
