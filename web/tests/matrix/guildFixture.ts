// A guild as the server creates it (shapes from a real POST /guilds on our homeserver:
// room v12 space created by the steward, owner in the create event, Admin role,
// categories text/voice, two channels), plus a Mods role and members.

import { applySync } from "../../src/matrix/reduce";
import { emptyState, type StoreState } from "../../src/matrix/store";
import type { MatrixEvent } from "../../src/matrix/types";
import { ev, stateEv } from "./events";

export const G = "!guild:h";
export const TEXT = "!text:h";
export const VOICE = "!voice:h";
export const OWNER = "@owner:h";
export const MOD = "@mod:h";
export const USER = "@user:h";
export const STEWARD = "@concord:h";

const join = (u: string, name?: string) => stateEv("m.room.member", u, { membership: "join", ...(name ? { displayname: name } : {}) }, { sender: u });

export function guildState(): MatrixEvent[] {
  return [
    stateEv("m.room.create", "", { type: "m.space", room_version: "12", "im.concord.owner": OWNER }, { sender: STEWARD }),
    stateEv("m.room.name", "", { name: "Guild" }, { sender: STEWARD }),
    stateEv("m.room.power_levels", "", { users: { [OWNER]: 100 }, events_default: 100, state_default: 100, events: { "im.concord.role": 40, "m.space.child": 30 } }, { sender: STEWARD }),
    join(STEWARD), join(OWNER, "Owner"), join(MOD, "Moddy"), join(USER),
    stateEv("im.concord.role", "admin", { name: "Admin", position: 1000, permissions: ["administrator"], color: "#ff0000" }),
    stateEv("im.concord.role", "mods", { name: "Mods", position: 500, permissions: ["manage_roles", "manage_channels", "delete_messages"], color: "#00ff00", mentionable: true }),
    stateEv("im.concord.role", "helpers", { name: "Helpers", position: 100 }),
    stateEv("im.concord.role", "bad", { name: "Bad", position: 5, permissions: ["fly"] }),
    stateEv("im.concord.member_roles", "mod:h", { roles: ["mods", "helpers"] }),
    stateEv("im.concord.member_roles", "user:h", { roles: ["helpers", "gone"] }),
    stateEv("im.concord.category", "text", { name: "Text", order: 100 }),
    stateEv("im.concord.category", "voice", { name: "Voice", order: 200 }),
    stateEv("m.space.child", TEXT, { via: ["h"], order: "00000100", "im.concord.category": "text" }),
    stateEv("m.space.child", VOICE, { via: ["h"], order: "00000100", "im.concord.category": "voice" }),
    stateEv("m.space.child", "!removed:h", {}),
  ];
}

export function channelState(roomId: string, voice: boolean): MatrixEvent[] {
  return [
    stateEv("m.room.create", "", { room_version: "12", ...(voice ? { type: "im.concord.voice" } : {}) }, { sender: STEWARD, room_id: roomId }),
    stateEv("m.room.name", "", { name: voice ? "Voice" : "general" }),
    stateEv("m.room.power_levels", "", { users: { [OWNER]: 100, [MOD]: 50 }, events_default: 0, state_default: 100, redact: 50, events: { "m.room.topic": 50 } }, { sender: STEWARD }),
    join(OWNER, "Owner"), join(MOD, "Moddy"), join(USER),
  ];
}

export function guildStore(me = USER): StoreState {
  return applySync(
    emptyState(me),
    {
      next_batch: "s1",
      rooms: {
        join: {
          [G]: { state: { events: guildState() }, timeline: { events: [] } },
          [TEXT]: { state: { events: channelState(TEXT, false) }, timeline: { events: [ev("m.room.message", { msgtype: "m.text", body: "hi" }, { sender: OWNER })] } },
          [VOICE]: { state: { events: channelState(VOICE, true) }, timeline: { events: [] } },
        },
      },
    },
    0,
  );
}
