import { describe, expect, it } from "vitest";

import { discover, loadSession, login, register, saveSession, serverNameOf } from "../../src/matrix/auth";
import { MatrixError } from "../../src/matrix/http";
import { FakeServer } from "./fakeServer";

const versions = () => ({ json: { versions: ["v1.11"] } });

describe("discover", () => {
  it("follows /.well-known/matrix/client of the user's server", async () => {
    const server = new FakeServer()
      .on("GET https://example.org/.well-known/matrix/client", () => ({
        json: { "m.homeserver": { base_url: "https://matrix.example.org/" }, "org.matrix.msc4143.rtc_foci": [] },
      }))
      .on("GET https://matrix.example.org/_matrix/client/versions", versions);
    const found = await discover("@bob:example.org", server.fetch);
    expect(found.baseUrl).toBe("https://matrix.example.org");
    expect(found.wellKnown["org.matrix.msc4143.rtc_foci"]).toEqual([]);
  });

  it("falls back to the server itself over http when there is no well-known (local servers)", async () => {
    const server = new FakeServer().on("GET http://127.0.0.1:8008/_matrix/client/versions", versions);
    expect((await discover("@a:127.0.0.1:8008", server.fetch)).baseUrl).toBe("http://127.0.0.1:8008");
  });

  it("refuses a well-known pointing at something that is not a homeserver", async () => {
    const server = new FakeServer().on("GET https://bad.org/.well-known/matrix/client", () => ({
      json: { "m.homeserver": { base_url: "https://nothing.bad.org" } },
    }));
    await expect(discover("bad.org", server.fetch)).rejects.toThrow(/Can't find a Matrix homeserver for bad.org/);
  });

  it("reads the server name of a user id", () => {
    expect(serverNameOf("@a:b.c:8448")).toBe("b.c:8448");
    expect(serverNameOf("b.c")).toBe("b.c");
  });
});

describe("login and register", () => {
  it("logs in with a password and keeps the well-known base URL the server returns", async () => {
    const server = new FakeServer().on("POST /_matrix/client/v3/login", (call) => ({
      json: {
        user_id: "@a:h",
        access_token: "T",
        device_id: "D",
        well_known: { "m.homeserver": { base_url: "https://real.h" } },
        seen: call.body,
      },
    }));
    const session = await login("https://h", "a", "pw", server.fetch);
    expect(session).toEqual({ baseUrl: "https://real.h", userId: "@a:h", accessToken: "T", deviceId: "D" });
    expect(server.calls[0]!.body).toMatchObject({ type: "m.login.password", identifier: { type: "m.id.user", user: "a" } });
    expect(server.calls[0]!.headers["Authorization"]).toBeUndefined();
  });

  it("registers through the dummy UIA stage", async () => {
    const server = new FakeServer().on("POST /_matrix/client/v3/register", (call) => {
      const auth = (call.body as { auth?: { type: string; session: string } }).auth;
      if (!auth) return { status: 401, json: { session: "S", flows: [{ stages: ["m.login.dummy"] }], params: {} } };
      expect(auth).toEqual({ type: "m.login.dummy", session: "S" });
      return { json: { user_id: "@new:h", access_token: "T2", device_id: "D2" } };
    });
    const session = await register("https://h", "new", "pw", { fetchImpl: server.fetch });
    expect(session.userId).toBe("@new:h");
    expect(server.calls).toHaveLength(2);
  });

  it("uses the registration token stage, then the dummy stage, in one session", async () => {
    const server = new FakeServer().on("POST /_matrix/client/v3/register", (call) => {
      const auth = (call.body as { auth?: { type: string; token?: string } }).auth;
      const flows = [{ stages: ["m.login.registration_token", "m.login.dummy"] }];
      if (!auth) return { status: 401, json: { session: "S", flows } };
      if (auth.type === "m.login.registration_token") {
        if (auth.token !== "letmein") return { status: 401, json: { session: "S", flows, errcode: "M_FORBIDDEN", error: "bad token" } };
        return { status: 401, json: { session: "S", flows, completed: ["m.login.registration_token"] } };
      }
      return { json: { user_id: "@t:h", access_token: "T", device_id: "D" } };
    });
    expect((await register("https://h", "t", "pw", { registrationToken: "letmein", fetchImpl: server.fetch })).userId).toBe("@t:h");
    expect(server.calls.map((c) => (c.body as { auth?: { type: string } }).auth?.type)).toEqual([
      undefined,
      "m.login.registration_token",
      "m.login.dummy",
    ]);
    const wrong = (await register("https://h", "t", "pw", { registrationToken: "nope", fetchImpl: server.fetch }).catch((e) => e)) as MatrixError;
    expect(wrong).toBeInstanceOf(MatrixError);
    expect(wrong.serverMessage).toBe("bad token");
  });

  it("says plainly when a token is needed or registration is closed", async () => {
    const needsToken = new FakeServer().on("POST /_matrix/client/v3/register", () => ({
      status: 401,
      json: { session: "S", flows: [{ stages: ["m.login.registration_token"] }] },
    }));
    await expect(register("https://h", "t", "pw", { fetchImpl: needsToken.fetch })).rejects.toThrow(/registration token/);
    const closed = new FakeServer().on("POST /_matrix/client/v3/register", () => ({
      status: 403,
      json: { errcode: "M_FORBIDDEN", error: "Registration has been disabled" },
    }));
    await expect(register("https://h", "t", "pw", { fetchImpl: closed.fetch })).rejects.toBeInstanceOf(MatrixError);
  });
});

describe("session storage", () => {
  it("round-trips and rejects corrupt entries", () => {
    const s = { baseUrl: "https://h", userId: "@a:h", accessToken: "T", deviceId: "D" };
    saveSession(s, localStorage);
    expect(loadSession(localStorage)).toEqual(s);
    localStorage.setItem("concord.session", "{not json");
    expect(loadSession(localStorage)).toBeNull();
    localStorage.setItem("concord.session", JSON.stringify({ userId: "@a:h" }));
    expect(loadSession(localStorage)).toBeNull();
  });
});
