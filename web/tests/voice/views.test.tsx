// The voice UI pieces the shell places (src/ui/voice): who is in a channel from its
// call.member state, the live call's participants with the speaking mark, and the
// "Voice connected" panel that leaves from anywhere.

import { signal } from "@preact/signals";
import { cleanup, fireEvent, render, screen } from "@testing-library/preact";
import { afterEach, describe, expect, it } from "vitest";

import type { MatrixClient } from "../../src/matrix/client";
import { VoiceChannelMembers } from "../../src/ui/voice/VoiceChannelMembers";
import { VoiceChannelView } from "../../src/ui/voice/VoiceChannelView";
import { VoiceStatusPanel } from "../../src/ui/voice/VoiceStatusPanel";
import { voiceOf, VoiceConnection } from "../../src/voice";
import type { ConnectionDeps } from "../../src/voice/ports";

afterEach(cleanup);

const ROOM = "!voice:a.org";

function fakeClient(callMembers: string[]) {
  const members = Object.fromEntries(
    callMembers.map((u) => [`_${u}_D`, { content: { device_id: "D", "im.concord.user_id": u, "im.concord.tracks": ["audio"] } }]),
  );
  const displayNames = Object.fromEntries(
    callMembers.map((u) => [u, { content: { membership: "join", displayname: `Name of ${u}` } }]),
  );
  const room = {
    roomId: ROOM,
    membership: "join",
    state: { "m.room.name": { "": { content: { name: "Lounge" } } }, "org.matrix.msc3401.call.member": members, "m.room.member": displayNames },
    notificationCount: 0,
    highlightCount: 0,
    accountData: {},
  };
  return {
    userId: "@me:a.org",
    session: { baseUrl: "http://hs", userId: "@me:a.org", accessToken: "t", deviceId: "D" },
    store: {
      state: signal({ userId: "@me:a.org", rooms: { [ROOM]: room }, presence: {}, profiles: {}, accountData: {} }),
      loggedOut: signal(false),
    },
    mediaUrl: () => null,
    wellKnown: async () => ({}),
  } as unknown as MatrixClient;
}

const noDeps = {} as ConnectionDeps;

describe("voice UI pieces", () => {
  it("lists who is in a voice channel from its call.member state", () => {
    const client = fakeClient(["@bob:a.org", "@carol:b.org"]);
    render(<VoiceChannelMembers client={client} roomId={ROOM} />);
    const list = screen.getByRole("list", { name: "Connected to voice" });
    expect(list.textContent).toContain("Name of @bob:a.org");
    expect(list.textContent).toContain("Name of @carol:b.org");
  });

  it("shows nothing for an empty channel", () => {
    const { container } = render(<VoiceChannelMembers client={fakeClient([])} roomId={ROOM} />);
    expect(container.textContent).toBe("");
  });

  it("while in the call: the live participants, speaking marked", () => {
    const client = fakeClient([]);
    const call = new VoiceConnection(ROOM, "@me:a.org", noDeps);
    call.status.value = "connected";
    call.participants.value = [
      { user_id: "@me:a.org", session_id: "1", muted: false, deafened: false, server_muted: false, tracks: [] },
      { user_id: "@dan:a.org", session_id: "2", muted: false, deafened: false, server_muted: false, tracks: [] },
    ];
    call.speaking.value = new Set(["@dan:a.org"]);
    voiceOf(client).current.value = call;
    render(<VoiceChannelMembers client={client} roomId={ROOM} />);
    const items = screen.getAllByRole("listitem");
    expect(items.map((li) => [li.dataset.userId, li.className])).toEqual([
      ["@me:a.org", ""],
      ["@dan:a.org", "speaking"],
    ]);
  });

  it("the status panel says where we are connected and disconnects", () => {
    const client = fakeClient([]);
    const { container } = render(<VoiceStatusPanel client={client} />);
    expect(container.textContent).toBe(""); // not in a call
    const call = new VoiceConnection(ROOM, "@me:a.org", noDeps);
    call.status.value = "connected";
    voiceOf(client).current.value = call;
    cleanup();
    render(<VoiceStatusPanel client={client} />);
    const panel = screen.getByRole("region", { name: "Voice status" });
    expect(panel.textContent).toContain("Voice connected");
    expect(panel.textContent).toContain("Lounge");
    fireEvent.click(screen.getByRole("button", { name: "Disconnect" }));
    expect(voiceOf(client).current.value).toBeNull();
    expect(call.status.value).toBe("idle");
  });

  it("the call view shows each participant once, not our own stale session", () => {
    const client = fakeClient([]);
    const call = new VoiceConnection(ROOM, "@me:a.org", noDeps);
    call.status.value = "connected";
    call.sessionId.value = "new";
    call.participants.value = [
      { user_id: "@me:a.org", session_id: "old", muted: false, deafened: false, server_muted: false, tracks: [] },
      { user_id: "@me:a.org", session_id: "new", muted: true, deafened: false, server_muted: false, tracks: [] },
      { user_id: "@dan:a.org", session_id: "d", muted: false, deafened: true, server_muted: false, tracks: [] },
    ];
    voiceOf(client).current.value = call;
    render(<VoiceChannelView client={client} roomId={ROOM} />);
    expect(screen.getByRole("status").textContent).toBe("Voice connected");
    const tiles = screen.getAllByTestId("voice-participant");
    expect(tiles.map((t) => t.dataset.sessionId)).toEqual(["new", "d"]);
    expect(screen.getByRole("img", { name: "Muted" }).closest("li")?.dataset.sessionId).toBe("new");
    expect(screen.getByRole("img", { name: "Deafened" }).closest("li")?.dataset.sessionId).toBe("d");
    expect(screen.getByRole("button", { name: "Mute" }).getAttribute("aria-pressed")).toBe("false");
  });
});
