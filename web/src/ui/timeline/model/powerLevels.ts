/**
 * What my power level lets me do in a channel (spec: client-server "m.room.power_levels",
 * room versions' auth rules). Concord compiles roles and channel permissions into these
 * levels (homeserver/chat/compiler.py), so reading them answers "may I write here?" and
 * "may I delete others' messages?" for Concord channels and plain Matrix rooms alike.
 */
import type { StateLookup } from "./events";

/** Levels creators have in room v12 (unlimited; spec: room version 12 "creators"). */
const CREATOR_LEVEL = Number.POSITIVE_INFINITY;

function num(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isInteger(value) ? value : fallback;
}

function creators(state: StateLookup): { v12: boolean; ids: Set<string>; sender?: string } {
  const createEvent = state("m.room.create", "");
  const create = createEvent?.content;
  const ids = new Set<string>();
  const version = typeof create?.["room_version"] === "string" ? create["room_version"] : "1";
  const sender = createEvent?.sender;
  const extra = create?.["additional_creators"];
  if (Array.isArray(extra)) for (const u of extra) if (typeof u === "string") ids.add(u);
  if (sender) ids.add(sender);
  if (typeof create?.["creator"] === "string") ids.add(create["creator"]);
  return { v12: version === "12" || version.startsWith("org.matrix.hydra"), ids, sender };
}

export function userLevel(state: StateLookup, userId: string): number {
  const { v12, ids } = creators(state);
  if (v12 && ids.has(userId)) return CREATOR_LEVEL;
  const pl = state("m.room.power_levels", "")?.content;
  if (!pl) return ids.has(userId) ? 100 : 0;
  const users = pl["users"];
  if (users && typeof users === "object" && userId in users) {
    return num((users as Record<string, unknown>)[userId], 0);
  }
  return num(pl["users_default"], 0);
}

function eventLevel(state: StateLookup, type: string): number {
  const pl = state("m.room.power_levels", "")?.content;
  if (!pl) return 0;
  const events = pl["events"];
  if (events && typeof events === "object" && type in events) {
    return num((events as Record<string, unknown>)[type], 0);
  }
  return num(pl["events_default"], 0);
}

export interface ChannelAbilities {
  write: boolean;
  react: boolean;
  redactOthers: boolean;
}

export function abilities(state: StateLookup, userId: string): ChannelAbilities {
  const mine = userLevel(state, userId);
  const pl = state("m.room.power_levels", "")?.content;
  const redact = pl ? num(pl["redact"], 50) : 50;
  return {
    write: mine >= eventLevel(state, "m.room.message"),
    react: mine >= eventLevel(state, "m.reaction"),
    redactOthers: mine >= redact,
  };
}
