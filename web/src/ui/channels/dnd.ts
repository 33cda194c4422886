/**
 * Drag-and-drop reordering of a guild's channel sidebar, as the move requests to make.
 *
 * A channel's place is (its category's `order`, its own m.space.child `order`), the same
 * key as homeserver/chat/guild.py `channel_order` (spec: client-server "Spaces": children
 * sort by `order` lexicographically). Moving a category is one `PUT .../categories/{id}`
 * with a new integer `order` (its channels follow); moving a channel is one
 * `PUT .../channels/{roomId}` with `{category, order}`. We choose new values so that as
 * few requests as possible are made: a channel gets an order string between its new
 * neighbours when there is room, and only when there is none is its group renumbered.
 */

/** A category as the sidebar shows it, in display order. */
export interface CategoryPlace {
  id: string;
  order: number;
}

/** A channel as the sidebar shows it: `category` null = above every category. */
export interface ChannelPlace {
  roomId: string;
  category: string | null;
  order: string | null;
}

export interface CategoryMove {
  id: string;
  order: number;
}

export interface ChannelMove {
  roomId: string;
  category: string | null;
  order: string;
}

// As the server's next_order (homeserver/steward/context.py): 8 digits, step 100.
const ORDER_WIDTH = 8;
const ORDER_STEP = 100;
const DIGITS = /^[0-9]{1,50}$/;
const CATEGORY_STEP = 10;

function pad(value: number): string {
  return String(value).padStart(ORDER_WIDTH, "0");
}

/**
 * Move category `id` so that it sits just before `beforeId` (null: last). Returns the
 * category updates to send; empty when nothing changes.
 */
export function moveCategory(
  categories: readonly CategoryPlace[],
  id: string,
  beforeId: string | null,
): CategoryMove[] {
  const moving = categories.find((c) => c.id === id);
  if (moving === undefined || id === beforeId) return [];
  const rest = categories.filter((c) => c.id !== id);
  const at = beforeId === null ? rest.length : rest.findIndex((c) => c.id === beforeId);
  if (at < 0) return [];
  const wanted = [...rest.slice(0, at), moving, ...rest.slice(at)];
  if (wanted.every((c, i) => c.id === categories[i]?.id)) return [];
  // Midway between the new neighbours when that leaves room: one request.
  const low = at > 0 ? rest[at - 1]!.order : -1;
  const high = at < rest.length ? rest[at]!.order : low + 2 * CATEGORY_STEP;
  if (high - low >= 2) return [{ id, order: Math.floor((low + high) / 2) }];
  // Else renumber, sending only the categories whose order changes.
  const moves: CategoryMove[] = [];
  wanted.forEach((c, i) => {
    const order = i * CATEGORY_STEP;
    if (order !== c.order) moves.push({ id: c.id, order });
  });
  return moves;
}

/** An order string strictly between two neighbours, or null when there is no room. */
export function orderBetween(before: string | null, after: string | null): string | null {
  if ((before !== null && !DIGITS.test(before)) || (after !== null && !DIGITS.test(after))) {
    return null;
  }
  const low = before === null ? 0 : Number(before);
  const high = after === null ? low + 2 * ORDER_STEP : Number(after);
  if (high - low < 2) return null;
  const value = pad(Math.floor((low + high) / 2));
  // Lexicographic order is what counts (the spec's rule); check it holds.
  if ((before !== null && value <= before) || (after !== null && value >= after)) return null;
  return value;
}

/**
 * Move channel `roomId` into `category` just before `beforeRoomId` (null: last in that
 * category). `channels` is the whole sidebar in display order.
 */
export function moveChannel(
  channels: readonly ChannelPlace[],
  roomId: string,
  category: string | null,
  beforeRoomId: string | null,
): ChannelMove[] {
  const moving = channels.find((c) => c.roomId === roomId);
  if (moving === undefined || roomId === beforeRoomId) return [];
  const group = channels.filter((c) => c.category === category && c.roomId !== roomId);
  const at = beforeRoomId === null ? group.length : group.findIndex((c) => c.roomId === beforeRoomId);
  if (at < 0) return [];
  const old = channels.filter((c) => c.category === category);
  const wanted = [...group.slice(0, at), moving, ...group.slice(at)];
  if (moving.category === category && wanted.every((c, i) => c.roomId === old[i]?.roomId)) {
    return [];
  }
  const before = at > 0 ? group[at - 1]! : null;
  const after = at < group.length ? group[at]! : null;
  const between = orderBetween(before?.order ?? null, after?.order ?? null);
  if (between !== null && (before === null || before.order !== null)) {
    return [{ roomId, category, order: between }];
  }
  // No room (or orders we did not write): renumber the group, sending only changes.
  const moves: ChannelMove[] = [];
  wanted.forEach((c, i) => {
    const order = pad((i + 1) * ORDER_STEP);
    if (c.roomId === roomId || c.order !== order) moves.push({ roomId: c.roomId, category, order });
  });
  return moves;
}
