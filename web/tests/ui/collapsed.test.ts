import { describe, expect, it } from "vitest";

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

