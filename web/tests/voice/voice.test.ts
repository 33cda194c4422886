// Which SFU a call goes to (src/voice/index.ts): our homeserver's, else — for a room of
// another server, whose SFU bot is not ours — the focus the room's call.member state names.

import { signal } from "@preact/signals";
import { describe, expect, it } from "vitest";

import type { MatrixClient } from "../../src/matrix/client";
import { Voice } from "../../src/voice";

function fakeClient(wellKnown: Record<string, unknown>, callMemberFocus: string | null) {
  const state = callMemberFocus
    ? {
        "org.matrix.msc3401.call.member": {
          "_@bob:b.org_D": { content: {}, unsigned: { prev_content: { focus_active: { type: "im.concord.sfu", url: callMemberFocus } } } },
        },
      }
    : {};
  const create = { "m.room.create": { "": { sender: "@steward:b.org", content: {} } } };
  return {
    userId: "@me:a.org",
    session: { baseUrl: "http://hs", userId: "@me:a.org", accessToken: "t", deviceId: "D" },
    wellKnown: async () => wellKnown,
    store: { state: signal({ rooms: { "!v:b.org": { state: { ...state, ...create } } } }), loggedOut: signal(false) },
  } as unknown as MatrixClient;
}

function sfus(answers: Record<string, number>) {
  const asked: string[] = [];
  const fetchImpl = async (url: string) => {
    if (url.endsWith("/openid/request_token")) return new Response(JSON.stringify({ access_token: "o", matrix_server_name: "a.org" }));
    const sfu = url.replace(/\/token$/, "");
    asked.push(sfu);
    const status = answers[sfu] ?? 500;
    return status === 200
      ? new Response(JSON.stringify({ jwt: `jwt from ${sfu}`, url: "ws://x/ws", expires_at_ms: 1 }))
      : new Response(JSON.stringify({ errcode: "M_FORBIDDEN", error: "bot not in room" }), { status });
  };
  return { asked, fetchImpl };
}

describe("Voice.grant", () => {
  it("uses our homeserver's SFU when it accepts", async () => {
    const { asked, fetchImpl } = sfus({ "http://ours": 200 });
    const voice = new Voice(fakeClient({ "org.matrix.msc4143.rtc_foci": [{ type: "im.concord.sfu", url: "http://ours" }] }, "http://theirs"), fetchImpl);
    expect((await voice.grant("!v:b.org")).jwt).toBe("jwt from http://ours");
    expect(asked).toEqual(["http://ours"]);
  });

  it("falls back to the room's own SFU when ours refuses", async () => {
    const { asked, fetchImpl } = sfus({ "http://ours": 403, "http://theirs": 200 });
    const voice = new Voice(fakeClient({ "org.matrix.msc4143.rtc_foci": [{ type: "im.concord.sfu", url: "http://ours" }] }, "http://theirs"), fetchImpl);
    expect((await voice.grant("!v:b.org")).jwt).toBe("jwt from http://theirs");
    expect(asked).toEqual(["http://ours", "http://theirs"]);
  });

  it("asks the SFU of the server that made the room when nobody is in the call", async () => {
    const { asked, fetchImpl } = sfus({ "http://theirs": 200 });
    const looked: string[] = [];
    const discoverImpl = async (server: string) => {
      looked.push(server);
      return { baseUrl: "http://b", wellKnown: { "org.matrix.msc4143.rtc_foci": [{ type: "im.concord.sfu", url: "http://theirs" }] } };
    };
    const voice = new Voice(fakeClient({}, null), fetchImpl, discoverImpl);
    expect((await voice.grant("!v:b.org")).jwt).toBe("jwt from http://theirs");
    expect(looked).toEqual(["b.org"]);
    expect(asked).toEqual(["http://theirs"]);
  });

  it("says plainly when there is no voice server at all", async () => {
    const nothing = async () => ({ baseUrl: "http://b", wellKnown: {} });
    const voice = new Voice(fakeClient({}, null), sfus({}).fetchImpl, nothing);
    await expect(voice.grant("!v:b.org")).rejects.toThrow("Voice isn't available: this homeserver has no voice server.");
  });
});
