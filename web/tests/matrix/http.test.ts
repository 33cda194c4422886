import { describe, expect, it } from "vitest";

import { Http, MatrixError, NETWORK_ERROR, TIMEOUT_ERROR, path } from "../../src/matrix/http";
import { FakeServer } from "./fakeServer";

const noSleep = async () => {};

describe("Http", () => {
  it("sends the token and JSON body, and returns the JSON answer", async () => {
    const server = new FakeServer().on("PUT /_matrix/client/v3/rooms/!a:x/state/m.room.topic/", (call) => ({
      json: { event_id: "$1", echoed: call.body },
    }));
    const http = new Http("https://hs.example/", "tok", server.fetch, noSleep);
    const reply = await http.put(path`/_matrix/client/v3/rooms/${"!a:x"}/state/${"m.room.topic"}/${""}`, { topic: "hi" });
    expect(reply).toEqual({ event_id: "$1", echoed: { topic: "hi" } });
    expect(server.calls[0]!.headers["Authorization"]).toBe("Bearer tok");
    expect(server.calls[0]!.url).toContain("/rooms/!a%3Ax/state/m.room.topic/");
  });

  it("turns an error body into a MatrixError with plain words", async () => {
    const server = new FakeServer().on("POST /_matrix/client/v3/rooms/r/invite", () => ({
      status: 403,
      json: { errcode: "M_FORBIDDEN", error: "You are not allowed to invite" },
    }));
    const http = new Http("https://hs.example", "tok", server.fetch, noSleep);
    const err = await http.post("/_matrix/client/v3/rooms/r/invite").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MatrixError);
    const m = err as MatrixError;
    expect([m.status, m.errcode, m.serverMessage]).toEqual([403, "M_FORBIDDEN", "You are not allowed to invite"]);
    expect(m.message).toBe("You don't have permission to do that.");
  });

  it("says wrong password in plain words on a failed login", async () => {
    const server = new FakeServer().on("POST /_matrix/client/v3/login", () => ({
      status: 403,
      json: { errcode: "M_FORBIDDEN", error: "Invalid username or password" },
    }));
    const err = (await new Http("https://h", null, server.fetch).post("/_matrix/client/v3/login").catch((e) => e)) as MatrixError;
    expect(err.message).toBe("Wrong username or password.");
  });

  it("waits out M_LIMIT_EXCEEDED and retries, at most rateLimitRetries times", async () => {
    let n = 0;
    const waits: number[] = [];
    const server = new FakeServer().on("GET /x", () =>
      ++n < 3 ? { status: 429, json: { errcode: "M_LIMIT_EXCEEDED", retry_after_ms: 250 } } : { json: { ok: n } },
    );
    const http = new Http("https://h", "t", server.fetch, async (ms) => void waits.push(ms));
    expect(await http.get("/x")).toEqual({ ok: 3 });
    expect(waits).toEqual([250, 250]);

    n = -10;
    const err = (await http.get("/x", undefined, { rateLimitRetries: 1 }).catch((e) => e)) as MatrixError;
    expect(err.errcode).toBe("M_LIMIT_EXCEEDED");
    expect(server.calls.length).toBe(5);
  });

  it("reports network failures and timeouts as MatrixErrors", async () => {
    const down = new Http("https://h", null, async () => {
      throw new TypeError("Failed to fetch");
    });
    const e1 = (await down.get("/x").catch((e) => e)) as MatrixError;
    expect(e1.errcode).toBe(NETWORK_ERROR);
    expect(e1.message).toMatch(/Can't reach the server/);

    const slow = new Http("https://h", null, (_input, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")))),
    );
    const e2 = (await slow.get("/x", undefined, { timeoutMs: 20 }).catch((e) => e)) as MatrixError;
    expect(e2.errcode).toBe(TIMEOUT_ERROR);
  });

  it("calls onUnknownToken when the session is gone", async () => {
    const server = new FakeServer().on("GET /y", () => ({ status: 401, json: { errcode: "M_UNKNOWN_TOKEN", error: "gone" } }));
    const http = new Http("https://h", "t", server.fetch);
    let told = 0;
    http.onUnknownToken = () => void told++;
    await http.get("/y").catch(() => undefined);
    expect(told).toBe(1);
  });
});
