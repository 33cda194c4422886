// Standard Matrix power levels (spec: client-server "m.room.power_levels"; room versions
// "Authorization rules"). The server and every peer enforce them; the UI reads them to
// offer only what will succeed. Concord compiles its roles into exactly these numbers.

import { creatorsOf } from "./guild";
import type { RoomState } from "./store";
import type { Json } from "./types";

export interface PowerLevels {
  users: Record<string, number>;
  usersDefault: number;
  events: Record<string, number>;
  eventsDefault: number;
  stateDefault: number;
  ban: number;
  kick: number;
  redact: number;
  invite: number;
  notifications: Record<string, number>;
}

function num(value: unknown, fallback: number): number {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  // Old rooms may carry levels as strings of digits.
  if (typeof value === "string" && /^-?\d+$/.test(value)) return Number(value);
  return fallback;
}

function numMap(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value as Json)) {
      const n = num(v, NaN);
      if (!Number.isNaN(n)) out[k] = n;
    }
  }
  return out;
}

/** Room versions whose creators hold infinite power (v12, MSC4289). */
function creatorsAreInfinite(room: RoomState): boolean {
  const version = room.state["m.room.create"]?.[""]?.content["room_version"];
  return version === "12" || (typeof version === "string" && /^org\.matrix\.hydra/.test(version));
}

/** The room's power levels with the spec's defaults filled in. */
export function powerLevels(room: RoomState): PowerLevels {
  const event = room.state["m.room.power_levels"]?.[""];
  if (!event) {
    // spec: without a power_levels event the creator has 100, everyone else 0, and
    // state_default is 0.
    const users: Record<string, number> = {};
    for (const creator of creatorsOf(room)) users[creator] = 100;
    return {
      users, usersDefault: 0, events: {}, eventsDefault: 0, stateDefault: 0,
      ban: 50, kick: 50, redact: 50, invite: 0, notifications: { room: 50 },
    };
  }
  const c = event.content;
  return {
    users: numMap(c["users"]),
    usersDefault: num(c["users_default"], 0),
    events: numMap(c["events"]),
    eventsDefault: num(c["events_default"], 0),
    stateDefault: num(c["state_default"], 50),
    ban: num(c["ban"], 50),
    kick: num(c["kick"], 50),
    redact: num(c["redact"], 50),
    invite: num(c["invite"], 0),
    notifications: { room: 50, ...numMap(c["notifications"]) },
  };
}

/** A user's power level; room v12 creators outrank every number. */
export function userLevel(room: RoomState, userId: string): number {
  if (creatorsAreInfinite(room) && creatorsOf(room).has(userId)) return Infinity;
  const pl = powerLevels(room);
  return pl.users[userId] ?? pl.usersDefault;
}

/** The level needed to send an event of `type` (a state event when `state`). */
export function levelFor(room: RoomState, type: string, state: boolean): number {
  const pl = powerLevels(room);
  return pl.events[type] ?? (state ? pl.stateDefault : pl.eventsDefault);
}

export function canSend(room: RoomState | undefined, userId: string, type = "m.room.message"): boolean {
  return !!room && room.membership === "join" && userLevel(room, userId) >= levelFor(room, type, false);
}

export function canSetState(room: RoomState | undefined, userId: string, type: string): boolean {
  return !!room && room.membership === "join" && userLevel(room, userId) >= levelFor(room, type, true);
}

/** Redacting someone else's event needs `redact` (and the m.room.redaction level). */
export function canRedact(room: RoomState | undefined, userId: string, sender: string): boolean {
  if (!room || room.membership !== "join") return false;
  const level = userLevel(room, userId);
  if (level < levelFor(room, "m.room.redaction", false)) return false;
  return sender === userId || level >= powerLevels(room).redact;
}

export function canKick(room: RoomState | undefined, userId: string, target: string): boolean {
  if (!room || room.membership !== "join") return false;
  const level = userLevel(room, userId);
  return level >= powerLevels(room).kick && level > userLevel(room, target);
}

export function canBan(room: RoomState | undefined, userId: string, target: string): boolean {
  if (!room || room.membership !== "join") return false;
  const level = userLevel(room, userId);
  return level >= powerLevels(room).ban && level > userLevel(room, target);
}

export function canInvite(room: RoomState | undefined, userId: string): boolean {
  return !!room && room.membership === "join" && userLevel(room, userId) >= powerLevels(room).invite;
}

/** May the user notify the whole room with @room? */
export function canMentionRoom(room: RoomState | undefined, userId: string): boolean {
  return !!room && userLevel(room, userId) >= (powerLevels(room).notifications["room"] ?? 50);
}
