/** What every shell component reads: the store's state, the actions and where we are. */

import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { signal } from "@preact/signals";

import type { MatrixClient } from "../../matrix";
import type { ShellActions } from "./actions";
import type { StateLike } from "./model";

export interface ShellEnv {
  client: MatrixClient;
  /** Reads the store's signal, so a component calling it re-renders on change. */
  state: () => StateLike;
  actions: ShellActions;
  userId: string;
  logout: () => void;
}

export const ShellContext = createContext<ShellEnv | null>(null);

export function useShell(): ShellEnv {
  const env = useContext(ShellContext);
  if (env === null) throw new Error("useShell outside <ShellContext.Provider>");
  return env;
}

/** Where the user is: a guild and channel, or the DM home (guild null). */
export interface Place {
  guild: string | null;
  channel: string | null;
}

// Where the user was, kept per browser so a reload comes back to it.
const PLACE_KEY = "concord.place";

function savedPlace(): Place {
  try {
    const raw = typeof localStorage === "undefined" ? null : localStorage.getItem(PLACE_KEY);
    const value = raw ? (JSON.parse(raw) as Partial<Place>) : {};
    return {
      guild: typeof value.guild === "string" ? value.guild : null,
      channel: typeof value.channel === "string" ? value.channel : null,
    };
  } catch {
    return { guild: null, channel: null };
  }
}

export const place = signal<Place>(savedPlace());

place.subscribe((value) => {
  try {
    localStorage.setItem(PLACE_KEY, JSON.stringify(value));
  } catch {
    // Storage full or disabled: the place is simply not remembered.
  }
});

/** The last channel opened in each guild, so coming back lands where the user left. */
const lastChannel = new Map<string, string>();

export function openGuild(guildId: string | null): void {
  place.value = { guild: guildId, channel: guildId ? (lastChannel.get(guildId) ?? null) : null };
}

export function openChannel(guildId: string | null, roomId: string): void {
  if (guildId) lastChannel.set(guildId, roomId);
  place.value = { guild: guildId, channel: roomId };
}

/** A user whose profile popup is open (and where), or null. */
export const profilePopup = signal<{ userId: string; guildId: string | null; x: number; y: number } | null>(null);
