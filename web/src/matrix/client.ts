// The client object the UI holds: one session's HTTP, store and sync, wired together.

import { clearSession, defaultStorage, saveSession, wellKnownOf, type Session } from "./auth";
import { Http, path, type FetchLike } from "./http";
import { applySync } from "./reduce";
import { Store, type StoreState } from "./store";
import { SyncEngine, type WebSocketFactory } from "./sync";
import type { Json } from "./types";
import { loadUnsent, restoreUnsent, saveUnsent, unsentOf, type UnsentMessage } from "./unsent";
import { guildOfChannel } from "./views";

export interface ClientOptions {
  fetchImpl?: FetchLike;
  webSocket?: WebSocketFactory | null;
  storage?: Storage | null;
  now?: () => number;
  /** Passed to the sync engine (tests make them instant). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Join invites to channels of guilds we are in (default false: the shell may do it
   * itself). The steward invites members into each channel they may read (README "The
   * Concord layer"); in Discord terms being in the guild is being in those channels.
   */
  autoJoinGuildChannels?: boolean;
}

const MXC = /^mxc:\/\/([^/]+)\/([A-Za-z0-9_-]+)$/;

export class MatrixClient {
  readonly session: Session;
  readonly http: Http;
  readonly store: Store;
  readonly sync: SyncEngine;
  readonly now: () => number;
  readonly storage: Storage | null;
  private readonly fetchImpl: FetchLike | undefined;
  private wellKnownCache: Promise<Json> | null = null;
  private readonly autoJoin: boolean;
  private readonly joining = new Set<string>();
  /** Messages kept from an earlier page load, put back after the first sync. */
  private unsent: UnsentMessage[];
  private savedUnsent = "";
  private stopSaving: (() => void) | null = null;

  constructor(session: Session, opts: ClientOptions = {}) {
    this.session = session;
    this.fetchImpl = opts.fetchImpl;
    this.storage = opts.storage === undefined ? defaultStorage() : opts.storage;
    this.now = opts.now ?? (() => Date.now());
    this.http = new Http(session.baseUrl, session.accessToken, opts.fetchImpl);
    this.store = new Store(session.userId);
    this.autoJoin = opts.autoJoinGuildChannels ?? false;
    this.unsent = loadUnsent(this.storage, session.userId);
    this.savedUnsent = this.unsent.length ? JSON.stringify(this.unsent) : "";
    this.http.onUnknownToken = () => this.endSession();
    this.sync = new SyncEngine({
      http: this.http,
      webSocket: opts.webSocket,
      sleep: opts.sleep,
      callbacks: {
        onSync: (body) => {
          this.store.update((s) => applySync(s, body, this.now()));
          if (this.unsent.length) this.restoreUnsent();
          if (this.autoJoin) this.joinGuildChannelInvites();
        },
        onStatus: (status, transport, error) => {
          this.store.syncStatus.value = status;
          this.store.transport.value = transport;
          this.store.syncError.value = error;
        },
        onLoggedOut: () => this.endSession(),
      },
    });
  }

  get userId(): string {
    return this.session.userId;
  }

  /** Start syncing (WebSocket, else long-poll). */
  start(): void {
    saveSession(this.session, this.storage);
    this.stopSaving ??= this.store.state.subscribe((s) => this.saveUnsent(s));
    this.sync.start();
  }

  stop(): void {
    this.stopSaving?.();
    this.stopSaving = null;
    this.sync.stop();
    this.store.syncStatus.value = "stopped";
  }

  private restoreUnsent(): void {
    const kept = this.unsent;
    this.unsent = [];
    // Those of rooms we are no longer in are dropped.
    this.store.update((s) => restoreUnsent(s, kept).state);
    this.saveUnsent(this.store.value); // also when nothing came back
  }

  /** Keep the unsent messages in storage whenever they change (not on every sync). */
  private saveUnsent(s: StoreState): void {
    if (this.unsent.length) return; // not restored yet: do not overwrite them
    const list = unsentOf(s);
    const text = list.length ? JSON.stringify(list) : "";
    if (text !== this.savedUnsent) this.savedUnsent = saveUnsent(this.storage, this.session.userId, list);
  }

  /** Join each pending invite to a channel of a guild we are in (once per room). */
  private joinGuildChannelInvites(): void {
    const s = this.store.value;
    for (const room of Object.values(s.rooms)) {
      if (room.membership !== "invite" || this.joining.has(room.roomId)) continue;
      if (!guildOfChannel(s, room.roomId)) continue;
      this.joining.add(room.roomId);
      this.http.post(path`/_matrix/client/v3/rooms/${room.roomId}/join`, {}).catch(() => {
        // Left as an invite: the UI shows it and the user can join by hand.
      });
    }
  }

  /** The server ended our session (token revoked or expired): forget it locally. */
  private endSession(): void {
    this.sync.stop();
    clearSession(this.storage);
    saveUnsent(this.storage, this.session.userId, []); // nothing of ours left on the device
    this.store.syncStatus.value = "stopped";
    this.store.loggedOut.value = true;
  }

  /** Log out on the server and forget the session (also when the server is unreachable). */
  async logout(): Promise<void> {
    this.sync.stop();
    try {
      await this.http.post("/_matrix/client/v3/logout", {}, { timeoutMs: 10_000 });
    } finally {
      clearSession(this.storage);
      saveUnsent(this.storage, this.session.userId, []);
      this.store.syncStatus.value = "stopped";
      this.store.loggedOut.value = true;
    }
  }

  /** The homeserver's /.well-known/matrix/client (cached; {} when absent). */
  wellKnown(): Promise<Json> {
    this.wellKnownCache ??= wellKnownOf(this.session.baseUrl, this.fetchImpl);
    return this.wellKnownCache;
  }

  /**
   * An HTTP URL for an mxc:// URI (spec v1.11 authenticated media,
   * GET /_matrix/client/v1/media/download|thumbnail). <img> and <audio> cannot send an
   * Authorization header, so the token rides in the query string, which the spec's
   * access-token rules still allow. Returns null for anything that is not an mxc URI.
   */
  mediaUrl(mxc: unknown, thumbnail?: { width: number; height: number; method?: "crop" | "scale"; animated?: boolean }): string | null {
    if (typeof mxc !== "string") return null;
    const match = MXC.exec(mxc);
    if (!match) return null;
    const [, server, mediaId] = match;
    const token = `access_token=${encodeURIComponent(this.session.accessToken)}`;
    const base = `${this.session.baseUrl}/_matrix/client/v1/media`;
    const ids = `${encodeURIComponent(server!)}/${encodeURIComponent(mediaId!)}`;
    if (!thumbnail) return `${base}/download/${ids}?${token}`;
    const q = `width=${thumbnail.width}&height=${thumbnail.height}&method=${thumbnail.method ?? "scale"}`;
    const animated = thumbnail.animated ? "&animated=true" : "";
    return `${base}/thumbnail/${ids}?${q}${animated}&${token}`;
  }
}
