// The pieces a voice call is made of, as interfaces (connection.ts drives them): the
// browser's WebRTC, devices, audio output and speaking detection in production
// (webrtc.ts, audio.ts), fakes in Vitest.

import type { SfuGrant } from "./focus";
import type { SubscribedTrack, TrackKind } from "./protocol";

export type VoiceStatus = "idle" | "connecting" | "connected" | "reconnecting" | "failed";

export type LocalTracks = Partial<Record<TrackKind, MediaStreamTrack>>;

export interface PublishPeer {
  /** An offer publishing exactly `tracks` (ICE candidates included: no trickle). */
  offer(tracks: LocalTracks): Promise<{ sdp: string; tracks: { mid: string; kind: TrackKind }[] }>;
  accept(answerSdp: string): Promise<void>;
  close(): void;
}

export interface SubscribePeer {
  /** Answer the SFU's offer; returns the answer and the stream arriving on each mid. */
  answer(offerSdp: string, tracks: SubscribedTrack[]): Promise<{ sdp: string; streams: Map<string, MediaStream> }>;
  close(): void;
}

export interface Devices {
  microphone(): Promise<MediaStreamTrack>;
  camera(): Promise<MediaStreamTrack>;
  screen(): Promise<MediaStreamTrack>;
}

/** Plays remote audio (hidden <audio> elements in the browser). */
export interface AudioOutput {
  set(streams: Map<string, MediaStream>): void;
  setDeafened(deafened: boolean): void;
  close(): void;
}

/** Reports who is speaking from audio levels (speaking.ts). */
export interface SpeakingDetector {
  set(streams: Map<string, MediaStream>): void;
  close(): void;
}

export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
}

export interface ConnectionDeps {
  /** A fresh grant (OpenID → SFU token) each time: a reconnect needs a new JWT. */
  grant(): Promise<SfuGrant>;
  webSocket(url: string): WebSocketLike;
  publisher(): PublishPeer;
  subscriber(): SubscribePeer;
  devices: Devices;
  audio(): AudioOutput;
  /** `onSpeaking` gets the user ids speaking now. */
  speaking(onSpeaking: (userIds: Set<string>) => void): SpeakingDetector;
  sleep?(ms: number): Promise<void>;
  /** How long to wait for `joined` or a `publish_answer`. */
  timeoutMs?: number;
}

/** A remote track to show or play: whose, which kind, and the stream. */
export interface RemoteMedia {
  mid: string;
  userId: string;
  sessionId: string;
  kind: TrackKind;
  trackId: string;
  stream: MediaStream;
}
