import { describe, expect, it } from "vitest";

import { discoverHomeserver, localpartOf, serverOfUserId } from "../../src/ui/auth/discovery";
import { collapsedIn, toggleCollapsed } from "../../src/ui/channels/collapsed";

describe("collapsed categories in im.concord.ui", () => {
  it("toggles one category and keeps everything else", () => {
    const start = { theme: "dark", collapsed_categories: { "!g2": ["x"] } };
    const once = toggleCollapsed(start, "!g1", "voice");
    expect(once).toEqual({ theme: "dark", collapsed_categories: { "!g2": ["x"], "!g1": ["voice"] } });
    expect([...collapsedIn(once, "!g1")]).toEqual(["voice"]);
    const twice = toggleCollapsed(once, "!g1", "voice");
    expect(twice).toEqual(start);
  });
  it("reads malformed content as nothing collapsed", () => {
    expect(collapsedIn({ collapsed_categories: "no" }, "!g").size).toBe(0);
    expect(collapsedIn({ collapsed_categories: { "!g": [1, "a"] } }, "!g")).toEqual(new Set(["a"]));
    expect(collapsedIn(undefined, "!g").size).toBe(0);
  });
});

describe("homeserver discovery", () => {
  const json = (status: number, body: unknown) =>
    Promise.resolve(new Response(JSON.stringify(body), { status }));
  it("uses the page origin when empty and a URL as typed", async () => {
    const never = () => Promise.reject(new Error("no fetch expected"));
    expect(await discoverHomeserver("", "http://127.0.0.1:8008/", never)).toBe("http://127.0.0.1:8008");
    expect(await discoverHomeserver("https://hs.example.org/", "x", never)).toBe("https://hs.example.org");
  });
  it("follows .well-known/matrix/client", async () => {
    const seen: string[] = [];
    const fetcher = (url: string) => {
      seen.push(url);
      return json(200, { "m.homeserver": { base_url: "https://matrix.example.org/" } });
    };
    expect(await discoverHomeserver("example.org", "x", fetcher)).toBe("https://matrix.example.org");
    expect(seen).toEqual(["https://example.org/.well-known/matrix/client"]);
  });
  it("falls back to the name without well-known, and explains bad answers", async () => {
    expect(await discoverHomeserver("example.org", "x", () => json(404, {}))).toBe("https://example.org");
    await expect(discoverHomeserver("example.org", "x", () => json(200, {}))).rejects.toThrow(
      "did not publish a homeserver address",
    );
    await expect(discoverHomeserver("not a server", "x", () => json(404, {}))).rejects.toThrow(
      "is not a server name",
    );
  });
  it("reads user ids", () => {
    expect(serverOfUserId("@alice:example.org")).toBe("example.org");
    expect(serverOfUserId("alice")).toBeNull();
    expect(localpartOf("@alice:example.org")).toBe("alice");
  });
});
