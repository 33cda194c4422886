// The seam between the store (web/src/matrix) and the channel view: a store fed by real
// reducers (applySync) becomes the view's model, and actions go out as the spec's HTTP
// calls with local echo and same-transaction-id retries.
import { describe, expect, it } from "vitest";

import { MatrixClient } from "../../src/matrix/client";
import { applySync } from "../../src/matrix/reduce";
import { emptyState } from "../../src/matrix/store";
import { buildActions, buildModel } from "../../src/ui/timeline/source";
import { ev, joinedSync, msg, stateEv } from "../matrix/events";

const SPACE = "!space:h";
const CHAN = "!chan:h";
const ME = "@me:h";

function client(fetchImpl?: (url: string, init?: RequestInit) => Promise<Response>): MatrixClient {
  return new MatrixClient(
    { baseUrl: "http://hs", userId: ME, accessToken: "tok", deviceId: "D" },
    { storage: null, webSocket: null, fetchImpl },
  );
}

function member(user: string, name: string) {
  return stateEv("m.room.member", user, { membership: "join", displayname: name }, { sender: user });
}

function world() {
  const hello = msg("hello @Mods", { sender: "@alice:h" });
  (hello.content as Record<string, unknown>)["im.concord.role_mentions"] = ["mods"];
  const edit = ev("m.room.message", {
    body: "* hello @Mods!",
    "m.new_content": { msgtype: "m.text", body: "hello @Mods!", "im.concord.role_mentions": ["mods"] },
    "m.relates_to": { rel_type: "m.replace", event_id: hello.event_id },
  }, { sender: "@alice:h" });
  const reaction = ev("m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: hello.event_id, key: "👍" } }, { sender: ME });
  const gone = msg("gone", { sender: "@alice:h" });
  const redaction = ev("m.room.redaction", { redacts: gone.event_id }, { sender: "@alice:h" });
  const sync = joinedSync("s1", {
    [SPACE]: {
      state: {
        events: [
          stateEv("m.room.create", "", { room_version: "12", type: "m.space" }, { sender: "@steward:h" }),
          member(ME, "Me"),
          member("@alice:h", "Alice"),
          stateEv("m.space.child", CHAN, { via: ["h"] }),
          stateEv("im.concord.role", "mods", { name: "Mods", position: 10, color: "#112233", mentionable: true }),
          stateEv("im.concord.role", "quiet", { name: "Quiet", position: 5 }),
          stateEv("im.concord.member_roles", "me:h", { roles: ["mods"] }),
        ],
      },
    },
    [CHAN]: {
      state: {
        events: [
          stateEv("m.room.create", "", { room_version: "12" }, { sender: "@steward:h" }),
          stateEv("m.space.parent", SPACE, { via: ["h"] }),
          stateEv("m.room.name", "", { name: "general" }),
          stateEv("m.room.power_levels", "", { users: { "@alice:h": 100 }, events_default: 10, redact: 50 }),
          member(ME, "Me"),
          member("@alice:h", "Alice"),
        ],
      },
      timeline: { events: [hello, edit, reaction, gone, redaction], prev_batch: "p0" },
      ephemeral: { events: [{ type: "m.typing", content: { user_ids: ["@alice:h", ME] } }] },
    },
  });
  return { state: applySync(emptyState(ME), sync, 0), hello };
}

describe("buildModel", () => {
  it("reads messages, edits, reactions, redactions, names, role colours and abilities", () => {
    const c = client();
    const { state, hello } = world();
    const model = buildModel(c, state, CHAN)!;
    expect(model.name).toBe("general");
    expect(model.items.map((i) => [i.body, i.edited])).toEqual([["hello @Mods!", true]]);
    // @Mods is mentionable and I hold it: highlighted.
    expect(model.items[0]!.mentionsMe).toBe(true);
    expect(model.items[0]!.reactions).toEqual([{ key: "👍", senders: [ME], mine: expect.any(String) }]);
    expect(model.items[0]!.id).toBe(hello.event_id);
    expect(model.person("@alice:h").name).toBe("Alice");
    expect(model.person(ME).color).toBe("#112233");
    expect(model.typing).toEqual(["@alice:h"]);
    // events_default 10 and I have 0: read-only, in plain words.
    expect(model.abilities.write).toBe(false);
    expect(model.readOnlyReason).toMatch(/permission to send messages/);
    // Only the mentionable role is offered (I lack mention_roles).
    expect(model.mentionableRoles.map((r) => r.id)).toEqual(["mods"]);
    expect(model.canPaginate).toBe(true);
  });
});

describe("buildActions", () => {
  it("keeps a failed send as a local echo and retries it with the same transaction id", async () => {
    const calls: string[] = [];
    let fail = true;
    const fetchImpl = async (url: string, init?: RequestInit) => {
      calls.push(`${init?.method} ${url}`);
      if (fail) throw new TypeError("Failed to fetch");
      return new Response(JSON.stringify({ event_id: "$new" }), { status: 200, headers: { "Content-Type": "application/json" } });
    };
    const c = client(fetchImpl);
    c.store.state.value = world().state;
    const actions = buildActions(c, CHAN);
    actions.send({ body: "keep me", userMentions: [], roleMentions: [] });
    await expect.poll(() => buildModel(c, c.store.state.value, CHAN)!.items.at(-1)?.pending).toBe("failed");
    const failed = buildModel(c, c.store.state.value, CHAN)!.items.at(-1)!;
    expect(failed.body).toBe("keep me");
    expect(failed.failure).toMatch(/reach the server/);
    fail = false;
    actions.retry(failed.txnId!);
    await expect.poll(() => c.store.room(CHAN)!.pending[0]?.status).toBe("sent");
    const puts = calls.filter((x) => x.startsWith("PUT"));
    expect(puts).toHaveLength(2);
    expect(puts[0]).toBe(puts[1]); // same URL: same txn id, so the server de-duplicates
    expect(puts[0]).toContain(`/rooms/${encodeURIComponent(CHAN)}/send/m.room.message/${failed.txnId}`);
  });
});
