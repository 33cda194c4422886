// Hearing the others, and seeing who speaks.
//
// Remote audio plays through <audio> elements kept outside the page's layout, so the call
// goes on while the person looks at a text channel. (Chrome also only lets a remote
// WebRTC track reach WebAudio while an element plays it.)
//
// Speaking: an AnalyserNode per audio track; the RMS level of its waveform sampled ten
// times a second; above SPEAKING_LEVEL means speaking, held for HOLD_MS so the ring does
// not flicker between words. Muted people send nothing (the SFU stops forwarding) or
// silence (a disabled track), so they never show as speaking.

import type { AudioOutput, SpeakingDetector } from "./ports";

export const SPEAKING_LEVEL = 0.015;
const HOLD_MS = 400;
const SAMPLE_EVERY_MS = 100;

export class ElementAudioOutput implements AudioOutput {
  private readonly elements = new Map<string, HTMLAudioElement>();
  private deafened = false;

  set(streams: Map<string, MediaStream>): void {
    for (const [key, element] of this.elements) {
      if (streams.get(key) !== element.srcObject) {
        element.srcObject = null;
        element.remove();
        this.elements.delete(key);
      }
    }
    for (const [key, stream] of streams) {
      if (this.elements.has(key)) continue;
      const element = document.createElement("audio");
      element.autoplay = true;
      element.muted = this.deafened;
      element.srcObject = stream;
      element.dataset.voiceAudio = key;
      element.hidden = true;
      document.body.appendChild(element);
      this.elements.set(key, element);
      void element.play().catch(() => undefined); // autoplay policy: plays on next gesture
    }
  }

  setDeafened(deafened: boolean): void {
    this.deafened = deafened;
    for (const element of this.elements.values()) element.muted = deafened;
  }

  close(): void {
    this.set(new Map());
  }
}

interface Watched {
  stream: MediaStream;
  source: MediaStreamAudioSourceNode;
  analyser: AnalyserNode;
  userId: string;
}

export class LevelSpeakingDetector implements SpeakingDetector {
  private readonly context: AudioContext;
  private readonly watched = new Map<string, Watched>();
  private readonly lastLoud = new Map<string, number>();
  private readonly buffer = new Float32Array(1024);
  private readonly timer: ReturnType<typeof setInterval>;
  private reported = "";

  constructor(private readonly onSpeaking: (userIds: Set<string>) => void) {
    this.context = new AudioContext();
    this.timer = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
  }

  /** `streams` keyed "userId|anything". */
  set(streams: Map<string, MediaStream>): void {
    for (const [key, w] of this.watched) {
      if (streams.get(key) !== w.stream) {
        w.source.disconnect();
        this.watched.delete(key);
      }
    }
    for (const [key, stream] of streams) {
      if (this.watched.has(key) || stream.getAudioTracks().length === 0) continue;
      const source = this.context.createMediaStreamSource(stream);
      const analyser = this.context.createAnalyser();
      analyser.fftSize = this.buffer.length;
      source.connect(analyser); // not to the destination: <audio> elements play it
      this.watched.set(key, { stream, source, analyser, userId: key.slice(0, key.lastIndexOf("|")) });
    }
    if (this.context.state === "suspended") void this.context.resume().catch(() => undefined);
  }

  private sample(): void {
    const now = performance.now();
    for (const w of this.watched.values()) {
      w.analyser.getFloatTimeDomainData(this.buffer);
      let sum = 0;
      for (const x of this.buffer) sum += x * x;
      if (Math.sqrt(sum / this.buffer.length) > SPEAKING_LEVEL) this.lastLoud.set(w.userId, now);
    }
    const speaking = new Set<string>();
    for (const [userId, at] of this.lastLoud) if (now - at < HOLD_MS) speaking.add(userId);
    const key = [...speaking].sort().join(",");
    if (key !== this.reported) {
      this.reported = key;
      this.onSpeaking(speaking);
    }
  }

  close(): void {
    clearInterval(this.timer);
    for (const w of this.watched.values()) w.source.disconnect();
    this.watched.clear();
    void this.context.close().catch(() => undefined);
  }
}
