// Keeping the store in sync with the server. Preferred transport: Concord's WebSocket
// (GET /_matrix/client/unstable/im.concord/sync/ws, protocol in
// homeserver/api/client/sync_ws.py): one `sync` message, then pushed deltas. When the
// socket cannot be opened (a plain Synapse has no such endpoint) or keeps failing, we
// long-poll GET /sync (spec: client-server "Syncing"). Both share `since` tokens, so
// switching never loses or repeats anything. Reconnects back off exponentially.

import { Http, MatrixError, errorMessage } from "./http";
import type { SyncResponse } from "./types";

export const WS_PATH = "/_matrix/client/unstable/im.concord/sync/ws";

/** Lazy-load members (spec: "Lazy-loading room members"); a page of timeline per room. */
export const SYNC_FILTER = {
  room: {
    state: { lazy_load_members: true },
    timeline: { limit: 30, lazy_load_members: true },
  },
};

export interface WebSocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number }) => void) | null;
  send(data: string): void;
  close(code?: number): void;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

export interface SyncCallbacks {
  /** A sync body to apply (initial, catch-up or delta). */
  onSync(body: SyncResponse): void;
  onStatus(status: "connecting" | "syncing" | "reconnecting" | "error", transport: "ws" | "poll", error: string | null): void;
  /** The token is no longer valid: stop and log out. */
  onLoggedOut(err: MatrixError): void;
}

export interface SyncOptions {
  http: Http;
  callbacks: SyncCallbacks;
  since?: string | null;
  webSocket?: WebSocketFactory | null;
  /** Override timers in tests. */
  sleep?: (ms: number) => Promise<void>;
  pollTimeoutMs?: number;
  maxBackoffMs?: number;
  /** Consecutive WebSocket failures before falling back to long-polling. */
  wsFailuresBeforePoll?: number;
}

function defaultWebSocket(): WebSocketFactory | null {
  if (typeof WebSocket === "undefined") return null;
  return (url) => new WebSocket(url) as unknown as WebSocketLike;
}

export function backoffMs(failures: number, maxMs: number): number {
  return Math.min(maxMs, 1000 * 2 ** Math.max(0, failures - 1));
}

export class SyncEngine {
  since: string | null;
  transport: "ws" | "poll" = "ws";
  private readonly http: Http;
  private readonly cb: SyncCallbacks;
  private readonly wsFactory: WebSocketFactory | null;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly pollTimeoutMs: number;
  private readonly maxBackoffMs: number;
  private readonly wsFailuresBeforePoll: number;
  private running = false;
  /** Bumped by each start/stop: timers and loops of an earlier run see it and quit. */
  private generation = 0;
  private socket: WebSocketLike | null = null;
  private pollAbort: AbortController | null = null;
  private failures = 0;
  /** A socket has delivered at least once: failures are then transient, worth retrying. */
  private wsEverWorked = false;

  constructor(opts: SyncOptions) {
    this.http = opts.http;
    this.cb = opts.callbacks;
    this.since = opts.since ?? null;
    this.wsFactory = opts.webSocket === undefined ? defaultWebSocket() : opts.webSocket;
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.pollTimeoutMs = opts.pollTimeoutMs ?? 30_000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.wsFailuresBeforePoll = opts.wsFailuresBeforePoll ?? 3;
    if (!this.wsFactory) this.transport = "poll";
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.generation += 1;
    this.cb.onStatus("connecting", this.transport, null);
    if (this.transport === "ws") this.openSocket();
    else void this.pollLoop();
  }

  stop(): void {
    this.running = false;
    this.generation += 1;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onerror = null;
      socket.onmessage = null;
      socket.close(1000);
    }
    this.pollAbort?.abort();
    this.pollAbort = null;
  }

  private wsUrl(): string {
    const base = this.http.baseUrl.replace(/^http/, "ws");
    // Browsers cannot set headers on a WebSocket: the token goes in the query string,
    // which sync_ws.py accepts as for any client request.
    return `${base}${WS_PATH}?access_token=${encodeURIComponent(this.http.accessToken ?? "")}`;
  }

  private openSocket(): void {
    if (!this.running || !this.wsFactory) return;
    let socket: WebSocketLike;
    try {
      socket = this.wsFactory(this.wsUrl());
    } catch {
      this.fallBackToPoll();
      return;
    }
    this.socket = socket;
    let gotMessage = false;
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: "sync", since: this.since, filter: SYNC_FILTER }));
    };
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(String(ev.data)) as Record<string, unknown>;
      } catch {
        return;
      }
      if (message["type"] === "sync") {
        gotMessage = true;
        this.wsEverWorked = true;
        this.failures = 0;
        const { type: _type, ...body } = message;
        void _type;
        this.deliver(body as unknown as SyncResponse);
      } else if (message["type"] === "error") {
        const err = new MatrixError(
          400,
          String(message["errcode"] ?? "M_UNKNOWN"),
          String(message["error"] ?? ""),
          message,
        );
        if (err.errcode === "M_UNKNOWN_TOKEN") {
          this.stop();
          this.cb.onLoggedOut(err);
        } else {
          this.cb.onStatus("error", "ws", err.message);
        }
      }
    };
    socket.onerror = () => {
      // onclose follows; nothing to do here.
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (!this.running) return;
      if (ev.code === 4401) {
        this.stop();
        this.cb.onLoggedOut(new MatrixError(401, "M_UNKNOWN_TOKEN", "token no longer valid"));
        return;
      }
      this.failures += 1;
      const limit = this.wsEverWorked ? this.wsFailuresBeforePoll : 1;
      if (!gotMessage && this.failures >= limit) {
        // The first socket failed (a server without the endpoint), or a working one
        // keeps failing: long-poll instead.
        this.fallBackToPoll();
        return;
      }
      this.cb.onStatus("reconnecting", "ws", null);
      const generation = this.generation;
      void this.sleep(backoffMs(this.failures, this.maxBackoffMs)).then(() => {
        if (generation === this.generation) this.openSocket();
      });
    };
  }

  private fallBackToPoll(): void {
    this.transport = "poll";
    this.failures = 0;
    this.cb.onStatus("connecting", "poll", null);
    void this.pollLoop();
  }

  private deliver(body: SyncResponse): void {
    if (typeof body.next_batch === "string") this.since = body.next_batch;
    this.cb.onSync(body);
    this.cb.onStatus("syncing", this.transport, null);
  }

  /** One long-poll (exposed for tests); returns the body applied. */
  async pollOnce(signal?: AbortSignal): Promise<SyncResponse> {
    const body = await this.http.get<SyncResponse>(
      "/_matrix/client/v3/sync",
      {
        since: this.since ?? undefined,
        // An initial sync answers at once; later ones wait for news.
        timeout: this.since ? this.pollTimeoutMs : 0,
        filter: JSON.stringify(SYNC_FILTER),
      },
      { timeoutMs: this.pollTimeoutMs + 15_000, signal, rateLimitRetries: 5 },
    );
    this.deliver(body);
    return body;
  }

  private async pollLoop(): Promise<void> {
    const generation = this.generation;
    while (this.running && this.transport === "poll" && generation === this.generation) {
      const abort = new AbortController();
      this.pollAbort = abort;
      try {
        await this.pollOnce(abort.signal);
        this.failures = 0;
      } catch (err) {
        if (!this.running || generation !== this.generation) return;
        if (err instanceof MatrixError && err.errcode === "M_UNKNOWN_TOKEN") {
          this.stop();
          this.cb.onLoggedOut(err);
          return;
        }
        this.failures += 1;
        this.cb.onStatus("reconnecting", "poll", errorMessage(err));
        await this.sleep(backoffMs(this.failures, this.maxBackoffMs));
      }
    }
  }
}
