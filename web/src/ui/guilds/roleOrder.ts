/**
 * Dragging a role in the roles list: the new `position` for it (larger = more senior,
 * homeserver/chat/guild.py), midway between its new neighbours so that only the dragged
 * role changes (one state event). Null when there is no whole number between them or
 * when the place is at or above the user's own rank (the server would refuse it).
 */

export interface RankedRole {
  id: string;
  position: number;
}

/** `roles` most senior first; drop `id` just above `beforeId` (null: at the bottom). */
export function positionForDrop(
  roles: readonly RankedRole[],
  id: string,
  beforeId: string | null,
  rank: number,
): number | null {
  const rest = roles.filter((r) => r.id !== id);
  const at = beforeId === null ? rest.length : rest.findIndex((r) => r.id === beforeId);
  if (at < 0 || !roles.some((r) => r.id === id)) return null;
  const above = at > 0 ? rest[at - 1]!.position : Math.min(rank, 1001);
  const below = at < rest.length ? rest[at]!.position : -1;
  if (above - below < 2) return null;
  const position = Math.floor((above + below) / 2);
  return position < rank && position >= 0 && position <= 1000 ? position : null;
}
