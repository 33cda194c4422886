// The normalized client state. One immutable StoreState value held in a signal: reducers
// (reduce.ts, relations.ts) are pure functions old state → new state that copy only what
// they change, so a component reading `store.state.value.rooms[id]` re-renders when that
// room changed and computed views can compare by reference.

import { batch, signal, type Signal } from "@preact/signals";

import type { BasicEvent, Json, MatrixEvent } from "./types";

export type Membership = "join" | "invite" | "leave" | "knock" | "ban";

/** A message we sent that the server has not echoed back in the timeline yet. */
export interface LocalEcho {
  txnId: string;
  type: string;
  content: Json;
  /** sending → sent (server gave an event id) or failed (error shown, retry keeps txnId). */
  status: "sending" | "sent" | "failed";
  eventId?: string;
  error?: string;
  /** Local time the user pressed send (for ordering and display). */
  ts: number;
}

export interface Receipt {
  eventId: string;
  ts: number;
}

export interface ReactionRef {
  target: string;
  key: string;
  sender: string;
}

/** Event relations seen so far (spec: "Event annotations and reactions", "Event replacements"). */
export interface Relations {
  /** target event id → reaction key → sender → the reaction's event id. */
  reactions: Record<string, Record<string, Record<string, string>>>;
  /** reaction event id → what it annotates (to undo it when redacted). */
  reactionIndex: Record<string, ReactionRef>;
  /** target event id → its m.replace events, oldest first. */
  edits: Record<string, MatrixEvent[]>;
  /** edit event id → target event id. */
  editIndex: Record<string, string>;
  /** redacted event id → the redaction event (remembered even if the target is not loaded). */
  redactions: Record<string, MatrixEvent>;
}

export interface RoomState {
  roomId: string;
  membership: Membership;
  /** Current state: event type → state key → event (stripped events for invites). */
  state: Record<string, Record<string, MatrixEvent | BasicEvent>>;
  /** Displayable events, oldest first (reactions, edits and redactions live in relations). */
  timeline: MatrixEvent[];
  /** Token for GET /messages?dir=b; null once the start of the room is reached. */
  prevBatch: string | null;
  /** Back-pagination reached the room's first event. */
  atStart: boolean;
  pending: LocalEcho[];
  relations: Relations;
  /** user id → their latest m.read receipt. */
  receipts: Record<string, Receipt>;
  notificationCount: number;
  highlightCount: number;
  typing: string[];
  accountData: Record<string, Json>;
  heroes: string[];
  joinedCount: number | null;
  invitedCount: number | null;
  /** The full member list was loaded (GET /members): lazy loading is done for this room. */
  membersLoaded: boolean;
}

export interface Presence {
  presence: "online" | "unavailable" | "busy" | "offline" | string;
  /** Local clock time of the last activity, from last_active_ago when it arrived. */
  lastActiveTs: number | null;
  currentlyActive: boolean;
  statusMsg: string | null;
}

/** Global profile fields fetched with GET /profile (displayname/avatar also per room). */
export interface Profile {
  displayname?: string;
  avatar_url?: string;
  "im.concord.description"?: string;
  [field: string]: unknown;
}

export type SyncStatus = "stopped" | "connecting" | "syncing" | "reconnecting" | "error";

export interface StoreState {
  userId: string | null;
  rooms: Record<string, RoomState>;
  presence: Record<string, Presence>;
  profiles: Record<string, Profile>;
  accountData: Record<string, Json>;
  nextBatch: string | null;
  /** The first sync has been applied (the UI can leave its loading screen). */
  ready: boolean;
}

export function emptyRelations(): Relations {
  return { reactions: {}, reactionIndex: {}, edits: {}, editIndex: {}, redactions: {} };
}

export function emptyRoom(roomId: string, membership: Membership = "join"): RoomState {
  return {
    roomId,
    membership,
    state: {},
    timeline: [],
    prevBatch: null,
    atStart: false,
    pending: [],
    relations: emptyRelations(),
    receipts: {},
    notificationCount: 0,
    highlightCount: 0,
    typing: [],
    accountData: {},
    heroes: [],
    joinedCount: null,
    invitedCount: null,
    membersLoaded: false,
  };
}

export function emptyState(userId: string | null = null): StoreState {
  return { userId, rooms: {}, presence: {}, profiles: {}, accountData: {}, nextBatch: null, ready: false };
}

/** The content of a state event, or undefined when absent. */
export function stateContent(room: RoomState | undefined, type: string, key = ""): Json | undefined {
  return room?.state[type]?.[key]?.content;
}

/** The signals the UI reads. `state` is replaced as a whole by each reducer step. */
export class Store {
  readonly state: Signal<StoreState>;
  readonly syncStatus: Signal<SyncStatus> = signal("stopped");
  readonly transport: Signal<"ws" | "poll" | null> = signal(null);
  /** Last sync error in plain words (null when syncing fine). */
  readonly syncError: Signal<string | null> = signal(null);
  /** Set when the server invalidated our session (the UI goes back to login). */
  readonly loggedOut: Signal<boolean> = signal(false);
  /** Upload progress of attachments being sent, by the local echo's txn id. */
  readonly uploads: Signal<Record<string, { loaded: number; total: number }>> = signal({});

  constructor(userId: string | null = null) {
    this.state = signal(emptyState(userId));
  }

  get value(): StoreState {
    return this.state.value;
  }

  /** Apply a pure reducer step. */
  update(step: (s: StoreState) => StoreState): void {
    batch(() => {
      this.state.value = step(this.state.value);
    });
  }

  room(roomId: string): RoomState | undefined {
    return this.state.value.rooms[roomId];
  }
}
