// One voice call: the signaling state machine of sfu/media/signaling.py, with the media
// pieces injected (peers, devices, audio output, speaking detection) so it runs in Vitest
// against a fake WebSocket, and in the browser with WebRTC (webrtc.ts).
//
//   idle → connecting → connected ⇄ reconnecting → idle (left) | failed
//
// Two peer connections: publish (we offer our mic/webcam/screen; the list sent is the
// whole set, so adding or stopping a track is a new offer) and subscribe (the SFU offers
// everyone else's tracks; we answer). Offers of each kind are serialized.

import { signal, type Signal } from "@preact/signals";

import { errorMessage } from "../matrix/http";
import type {
  AudioOutput,
  ConnectionDeps,
  LocalTracks,
  PublishPeer,
  RemoteMedia,
  SpeakingDetector,
  SubscribePeer,
  VoiceStatus,
  WebSocketLike,
} from "./ports";
import {
  CLOSE_BAD_TOKEN,
  CLOSE_FORBIDDEN,
  parseServerFrame,
  TRACK_KINDS,
  type ClientFrame,
  type Participant,
  type ServerFrame,
  type SubscribedTrack,
} from "./protocol";

export type * from "./ports";

const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000];
const PING_EVERY_MS = 20_000;
const WS_OPEN = 1;

class Refused extends Error {}

export class VoiceConnection {
  readonly roomId: string;
  readonly userId: string;
  readonly status: Signal<VoiceStatus> = signal("idle");
  readonly error: Signal<string | null> = signal(null);
  readonly sessionId: Signal<string | null> = signal(null);
  readonly participants: Signal<Participant[]> = signal([]);
  readonly remote: Signal<RemoteMedia[]> = signal([]);
  /** Our own camera and screen, for the local preview. */
  readonly local: Signal<LocalTracks> = signal({});
  readonly muted: Signal<boolean> = signal(false);
  readonly deafened: Signal<boolean> = signal(false);
  readonly speaking: Signal<Set<string>> = signal(new Set());

  private readonly deps: ConnectionDeps;
  private ws: WebSocketLike | null = null;
  private pub: PublishPeer | null = null;
  private sub: SubscribePeer | null = null;
  private audioOut: AudioOutput | null = null;
  private detector: SpeakingDetector | null = null;
  private tracks: LocalTracks = {};
  private micStream: MediaStream | null = null;
  private publishChain: Promise<void> = Promise.resolve();
  private subscribeChain: Promise<void> = Promise.resolve();
  private pendingAnswer: { resolve(sdp: string): void; reject(e: Error): void } | null = null;
  private joinedWaiter: { resolve(): void; reject(e: Error): void } | null = null;
  private leaving = false;
  private mutedByDeafen = false;
  private pinger: ReturnType<typeof setInterval> | null = null;
  /** Bumped on every (re)connection: stale callbacks of an old socket do nothing. */
  private generation = 0;

  constructor(roomId: string, userId: string, deps: ConnectionDeps) {
    this.roomId = roomId;
    this.userId = userId;
    this.deps = deps;
  }

  // --- joining and leaving ----------------------------------------------------------

  /** Join the call: microphone, grant, socket, publish. Errors end in `failed` with a
   * plain message in `error`; a missing microphone only joins listening. */
  async join(): Promise<void> {
    const now = this.status.value;
    if (now === "connecting" || now === "connected" || now === "reconnecting") return;
    this.leaving = false;
    this.error.value = null;
    this.status.value = "connecting";
    if (!this.tracks.audio) {
      try {
        this.tracks.audio = await this.deps.devices.microphone();
        this.tracks.audio.enabled = !this.muted.value;
      } catch (err) {
        this.error.value = `No microphone: you can listen but not talk (${errorMessage(err)}).`;
      }
    }
    try {
      await this.connect();
      this.status.value = "connected";
    } catch (err) {
      if (this.leaving) return;
      this.teardown(); // a failed call must not keep the microphone open
      this.status.value = "failed";
      this.error.value = errorMessage(err);
    }
  }

  /** Leave now: tell the SFU, close everything, stop our devices. */
  leave(): void {
    this.leaving = true;
    this.send({ type: "leave" });
    this.teardown();
    this.status.value = "idle";
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    const grant = await this.deps.grant();
    if (this.leaving || generation !== this.generation) return;
    this.audioOut = this.audioOut ?? this.deps.audio();
    this.audioOut.setDeafened(this.deafened.value);
    this.detector = this.detector ?? this.deps.speaking((ids) => (this.speaking.value = ids));
    const ws = this.deps.webSocket(grant.url);
    this.ws = ws;
    const joined = new Promise<void>((resolve, reject) => (this.joinedWaiter = { resolve, reject }));
    ws.onopen = () => ws.send(JSON.stringify({ type: "join", token: grant.jwt } satisfies ClientFrame));
    ws.onmessage = (ev) => {
      if (generation === this.generation) this.onFrame(String(ev.data));
    };
    ws.onerror = () => undefined; // onclose follows and decides
    ws.onclose = (ev) => {
      if (generation === this.generation) this.onClose(ev.code, ev.reason);
    };
    await this.withTimeout(joined, "The voice server did not answer.");
    if (this.muted.value) this.send({ type: "mute", muted: true });
    if (this.deafened.value) this.send({ type: "deafen", deafened: true });
    this.pinger = setInterval(() => this.send({ type: "ping" }), PING_EVERY_MS);
    await this.publish();
  }

  private onClose(code: number, reason: string): void {
    const waiter = this.joinedWaiter;
    this.joinedWaiter = null;
    if (this.leaving) return;
    if (code === CLOSE_BAD_TOKEN || code === CLOSE_FORBIDDEN) {
      const message = this.error.value ?? (reason || "The voice server refused the connection.");
      if (waiter) {
        waiter.reject(new Refused(message));
        return;
      }
      this.teardown();
      this.status.value = "failed";
      this.error.value = message;
      return;
    }
    if (waiter) {
      waiter.reject(new Error("The connection to the voice server closed."));
      return;
    }
    if (this.status.value === "connected") void this.reconnect();
  }

  /** The socket dropped: same call, new grant, new peers, our tracks published again. */
  private async reconnect(): Promise<void> {
    this.status.value = "reconnecting";
    this.setRemote([]); // their tracks died with the old connection
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    for (const delay of RECONNECT_DELAYS_MS) {
      this.closeTransport();
      await sleep(delay);
      if (this.leaving) return;
      try {
        await this.connect();
        if (this.leaving) return;
        this.status.value = "connected";
        this.error.value = null;
        return;
      } catch (err) {
        if (err instanceof Refused) {
          this.error.value = err.message;
          break;
        }
        this.error.value = `Reconnecting… (${errorMessage(err)})`;
      }
    }
    if (this.leaving) return;
    this.teardown();
    this.status.value = "failed";
    this.error.value ??= "Lost the connection to the voice server.";
  }

  // --- frames -------------------------------------------------------------------------

  private send(frame: ClientFrame): void {
    if (this.ws && this.ws.readyState === WS_OPEN) this.ws.send(JSON.stringify(frame));
  }

  private onFrame(text: string): void {
    const frame: ServerFrame | null = parseServerFrame(text);
    if (frame === null) return;
    switch (frame.type) {
      case "joined":
        this.sessionId.value = frame.session_id;
        this.joinedWaiter?.resolve();
        this.joinedWaiter = null;
        break;
      case "participants":
        this.participants.value = frame.participants;
        this.pruneRemote(frame.participants);
        break;
      case "publish_answer":
        this.pendingAnswer?.resolve(frame.sdp);
        this.pendingAnswer = null;
        break;
      case "subscribe":
        this.subscribeChain = this.subscribeChain.then(() => this.answer(frame.sdp, frame.tracks));
        break;
      case "error":
        if (this.pendingAnswer) {
          this.pendingAnswer.reject(new Error(frame.error || frame.errcode));
          this.pendingAnswer = null;
        } else if (this.joinedWaiter) {
          this.error.value = frame.error || "The voice server refused the connection.";
        } else {
          this.error.value = frame.error || frame.errcode;
        }
        break;
      case "pong":
        break;
    }
  }

  private async answer(sdp: string, tracks: SubscribedTrack[]): Promise<void> {
    const generation = this.generation;
    try {
      this.sub = this.sub ?? this.deps.subscriber();
      const answered = await this.sub.answer(sdp, tracks);
      if (generation !== this.generation) return;
      this.send({ type: "subscribe_answer", sdp: answered.sdp });
      const remote: RemoteMedia[] = [];
      for (const t of tracks) {
        const stream = answered.streams.get(t.mid);
        if (!stream) continue;
        remote.push({ mid: t.mid, userId: t.user_id, sessionId: t.session_id, kind: t.kind, trackId: t.track_id, stream });
      }
      this.setRemote(remote);
    } catch (err) {
      this.error.value = `Couldn't receive the others' audio and video (${errorMessage(err)}).`;
    }
  }

  private pruneRemote(participants: Participant[]): void {
    const live = new Set(participants.flatMap((p) => p.tracks.map((t) => t.track_id)));
    const kept = this.remote.value.filter((r) => live.has(r.trackId));
    if (kept.length !== this.remote.value.length) this.setRemote(kept);
  }

  private setRemote(remote: RemoteMedia[]): void {
    this.remote.value = remote;
    const audio = new Map(remote.filter((r) => r.kind === "audio").map((r) => [r.userId + "|" + r.mid, r.stream]));
    this.audioOut?.set(audio);
    this.updateSpeakingSources();
  }

  private updateSpeakingSources(): void {
    // Keys start with the user id: the detector reports users, not tracks.
    const sources = new Map<string, MediaStream>();
    for (const r of this.remote.value) if (r.kind === "audio") sources.set(`${r.userId}|${r.mid}`, r.stream);
    const mic = this.tracks.audio;
    if (mic && typeof MediaStream !== "undefined") {
      if (this.micStream?.getAudioTracks()[0] !== mic) this.micStream = new MediaStream([mic]);
      sources.set(`${this.userId}|local`, this.micStream);
    }
    this.detector?.set(sources);
  }

  // --- publishing ---------------------------------------------------------------------

  /** Offer our current tracks (serialized: one offer on the wire at a time). */
  private publish(): Promise<void> {
    const run = this.publishChain.then(() => this.publishNow());
    this.publishChain = run.catch(() => undefined);
    return run;
  }

  private async publishNow(): Promise<void> {
    if (!this.ws || this.ws.readyState !== WS_OPEN) return;
    const live = Object.fromEntries(TRACK_KINDS.filter((k) => this.tracks[k]).map((k) => [k, this.tracks[k]])) as LocalTracks;
    if (!this.pub && Object.keys(live).length === 0) return; // nothing to publish yet
    this.pub = this.pub ?? this.deps.publisher();
    const offer = await this.pub.offer(live);
    const answered = new Promise<string>((resolve, reject) => (this.pendingAnswer = { resolve, reject }));
    this.send({ type: "publish", sdp: offer.sdp, tracks: offer.tracks });
    const sdp = await this.withTimeout(answered, "The voice server did not accept our media.");
    await this.pub.accept(sdp);
    this.updateSpeakingSources();
  }

  private withTimeout<T>(promise: Promise<T>, message: string): Promise<T> {
    const ms = this.deps.timeoutMs ?? 15_000;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(message)), ms);
      promise.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  // --- controls -----------------------------------------------------------------------

  setMuted(muted: boolean): void {
    this.mutedByDeafen = false;
    this.muted.value = muted;
    if (this.tracks.audio) this.tracks.audio.enabled = !muted;
    this.send({ type: "mute", muted });
  }

  /** Deafen: hear nobody (the SFU stops sending audio) and, like Discord, mute too;
   * undeafening unmutes only if deafening was what muted us. */
  setDeafened(deafened: boolean): void {
    this.deafened.value = deafened;
    this.audioOut?.setDeafened(deafened);
    this.send({ type: "deafen", deafened });
    if (deafened && !this.muted.value) {
      this.setMuted(true);
      this.mutedByDeafen = true;
    } else if (!deafened && this.mutedByDeafen) {
      this.setMuted(false);
    }
  }

  /** Mute someone else for everyone (needs the room's kick power level, checked by the SFU). */
  moderateMute(userId: string, muted: boolean): void {
    this.send({ type: "moderate_mute", user_id: userId, muted });
  }

  async setCamera(on: boolean): Promise<void> {
    await this.setVideo("webcam", on, () => this.deps.devices.camera());
  }

  async setScreenShare(on: boolean): Promise<void> {
    await this.setVideo("screen", on, () => this.deps.devices.screen());
  }

  private async setVideo(kind: "webcam" | "screen", on: boolean, open: () => Promise<MediaStreamTrack>): Promise<void> {
    if (on === !!this.tracks[kind]) return;
    if (on) {
      let track: MediaStreamTrack;
      try {
        track = await open();
      } catch (err) {
        const what = kind === "webcam" ? "camera" : "screen";
        this.error.value = `Couldn't start your ${what} (${errorMessage(err)}).`;
        return;
      }
      this.tracks[kind] = track;
      // The browser's own "Stop sharing" bar ends the track: stop publishing it.
      track.addEventListener?.("ended", () => {
        if (this.tracks[kind] === track) void this.setVideo(kind, false, open);
      });
    } else {
      this.tracks[kind]?.stop();
      delete this.tracks[kind];
    }
    this.local.value = { ...this.tracks };
    try {
      await this.publish();
    } catch (err) {
      this.error.value = errorMessage(err);
    }
  }

  // --- teardown -----------------------------------------------------------------------

  private closeTransport(): void {
    this.generation++;
    if (this.pinger !== null) clearInterval(this.pinger);
    this.pinger = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = ws.onmessage = ws.onopen = ws.onerror = null;
      try {
        ws.close(1000);
      } catch {
        // already closed
      }
    }
    this.pendingAnswer?.reject(new Error("The connection closed."));
    this.pendingAnswer = null;
    this.pub?.close();
    this.pub = null;
    this.sub?.close();
    this.sub = null;
    this.subscribeChain = Promise.resolve();
    this.sessionId.value = null;
  }

  /** Close the transport and release the microphone, camera and screen (a reconnect
   * only closes the transport: it publishes the same tracks again). */
  private teardown(): void {
    this.closeTransport();
    this.participants.value = [];
    this.setRemote([]);
    for (const k of TRACK_KINDS) this.tracks[k]?.stop();
    this.tracks = {};
    this.micStream = null;
    this.local.value = {};
    this.audioOut?.close();
    this.audioOut = null;
    this.detector?.close();
    this.detector = null;
    this.speaking.value = new Set();
  }
}
