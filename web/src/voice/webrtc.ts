// The browser's side of the two peer connections (connection.ts says who offers what),
// and the devices: getUserMedia for the microphone and camera, getDisplayMedia for the
// screen. The SFU puts its ICE candidates in its SDP and expects ours in ours (no trickle:
// sfu/media/signaling.py), so every description is sent once gathering is complete.

import type { Devices, LocalTracks, PublishPeer, SubscribePeer } from "./ports";
import { TRACK_KINDS, type SubscribedTrack, type TrackKind } from "./protocol";

const GATHER_TIMEOUT_MS = 3_000;

/** Resolves when ICE gathering is complete (or after a timeout: send what we have). */
export function gathered(pc: RTCPeerConnection, timeoutMs = GATHER_TIMEOUT_MS): Promise<void> {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

/** Our tracks, one send-only transceiver per kind, reused when a kind comes back (the
 * SFU refuses a mid that changes kind). */
export class WebRtcPublisher implements PublishPeer {
  private readonly pc = new RTCPeerConnection({ iceServers: [] });
  private readonly transceivers: Partial<Record<TrackKind, RTCRtpTransceiver>> = {};

  async offer(tracks: LocalTracks): Promise<{ sdp: string; tracks: { mid: string; kind: TrackKind }[] }> {
    for (const kind of TRACK_KINDS) {
      const track = tracks[kind];
      const existing = this.transceivers[kind];
      if (track && !existing) {
        this.transceivers[kind] = this.pc.addTransceiver(track, {
          direction: "sendonly",
          streams: [new MediaStream([track])],
        });
      } else if (track && existing) {
        if (existing.sender.track !== track) await existing.sender.replaceTrack(track);
        existing.direction = "sendonly";
      } else if (existing) {
        await existing.sender.replaceTrack(null);
        existing.direction = "inactive";
      }
    }
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await gathered(this.pc);
    const listed = TRACK_KINDS.flatMap((kind) => {
      const mid = this.transceivers[kind]?.mid;
      return tracks[kind] && mid ? [{ mid, kind }] : [];
    });
    return { sdp: this.pc.localDescription!.sdp, tracks: listed };
  }

  async accept(answerSdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: "answer", sdp: answerSdp });
  }

  close(): void {
    this.pc.close();
  }
}

/** Everyone else's tracks: the SFU's offer answered; a stream per mid, kept while the
 * same track stays on it (so video elements are not re-attached on every offer). */
export class WebRtcSubscriber implements SubscribePeer {
  private readonly pc = new RTCPeerConnection({ iceServers: [] });
  private readonly byMid = new Map<string, { trackId: string; stream: MediaStream }>();

  async answer(offerSdp: string, tracks: SubscribedTrack[]): Promise<{ sdp: string; streams: Map<string, MediaStream> }> {
    await this.pc.setRemoteDescription({ type: "offer", sdp: offerSdp });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await gathered(this.pc);
    const streams = new Map<string, MediaStream>();
    const transceivers = this.pc.getTransceivers();
    for (const t of tracks) {
      const transceiver = transceivers.find((x) => x.mid === t.mid);
      if (!transceiver) continue;
      let known = this.byMid.get(t.mid);
      if (!known || known.trackId !== t.track_id) {
        known = { trackId: t.track_id, stream: new MediaStream([transceiver.receiver.track]) };
        this.byMid.set(t.mid, known);
      }
      streams.set(t.mid, known.stream);
    }
    return { sdp: this.pc.localDescription!.sdp, streams };
  }

  close(): void {
    this.pc.close();
  }
}

/** The browser's microphone, camera and screen. */
export const browserDevices: Devices = {
  async microphone() {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    return stream.getAudioTracks()[0]!;
  },
  async camera() {
    const stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24 } },
    });
    return stream.getVideoTracks()[0]!;
  },
  async screen() {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
    return stream.getVideoTracks()[0]!;
  },
};
