// matrix-js-sdk against a running homeserver: what a chat client does, step by step.
//
//   node scenario.mjs http://127.0.0.1:8008 [--start-client]
//
// register -> login -> createRoom -> invite -> /sync sees the invite -> join -> send
// (txnId idempotency) -> /sync -> /messages backwards and forwards -> redact -> search
// -> leave -> logout. With --start-client, a third user also runs the SDK's own sync
// loop (startClient), scrolls back through the room, and sees another member's typing,
// reaction, read receipt and presence arrive, like Element does.
//
// Exits 0 on success; on failure prints "FAIL <step>: <what>" and exits 1.
import { randomBytes } from "node:crypto";

import * as sdk from "matrix-js-sdk";
import { logger } from "matrix-js-sdk/lib/logger.js";

const { ClientEvent, Direction, Method, SyncState } = sdk;
const PASSWORD = "correct horse battery staple";
const OVERALL_TIMEOUT_MS = 90_000;

logger.setLevel?.("silent");
logger.disableAll?.();

const args = process.argv.slice(2);
const baseUrl = args.find((a) => !a.startsWith("--"));
const withStartClient = args.includes("--start-client");
if (!baseUrl) {
  console.error("usage: node scenario.mjs BASE_URL [--start-client]");
  process.exit(2);
}

let currentStep = "start";
const watchdog = setTimeout(() => {
  console.error(`FAIL ${currentStep}: the scenario took longer than ${OVERALL_TIMEOUT_MS} ms`);
  process.exit(1);
}, OVERALL_TIMEOUT_MS);

function describe(err) {
  if (err && (err.errcode || err.httpStatus)) {
    return `HTTP ${err.httpStatus} ${err.errcode ?? ""} ${JSON.stringify(err.data ?? {})}`;
  }
  return err?.stack ?? String(err);
}

async function waitFor(pred, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function step(name, fn) {
  currentStep = name;
  try {
    const result = await fn();
    console.log(`ok   ${name}`);
    return result;
  } catch (err) {
    console.error(`FAIL ${name}: ${describe(err)}`);
    process.exit(1);
  }
}

function check(cond, message) {
  if (!cond) throw new Error(message);
}

const suffix = randomBytes(4).toString("hex");
const anon = sdk.createClient({ baseUrl });

function authed(login) {
  return sdk.createClient({
    baseUrl,
    accessToken: login.access_token,
    userId: login.user_id,
    deviceId: login.device_id,
  });
}

async function rawSync(client, since, timeoutMs = 0) {
  const query = { timeout: String(timeoutMs) };
  if (since) query.since = since;
  return client.http.authedRequest(Method.Get, "/sync", query);
}

// Incremental /sync until pred(response) holds, bounded in rounds.
async function syncUntil(client, state, pred, what, rounds = 20) {
  for (let i = 0; i < rounds; i++) {
    const resp = await rawSync(client, state.since, 1000);
    check(typeof resp.next_batch === "string", "/sync response without next_batch");
    state.since = resp.next_batch;
    if (pred(resp)) return resp;
  }
  throw new Error(`never saw ${what} in /sync`);
}

const joinedTimeline = (resp, roomId) => resp.rooms?.join?.[roomId]?.timeline?.events ?? [];

// ---------------------------------------------------------------------------------------

const versions = await step("GET /versions", () => anon.getVersions());
check(Array.isArray(versions.versions), "versions is not a list");

await step("register alice and bob", async () => {
  for (const name of ["alice", "bob"]) {
    const r = await anon.registerRequest({
      username: `${name}_${suffix}`,
      password: PASSWORD,
      auth: { type: "m.login.dummy" },
      initial_device_display_name: "js-sdk",
    });
    check(r.user_id?.startsWith(`@${name}_${suffix}:`), `unexpected user_id ${r.user_id}`);
    check(r.access_token, "no access_token from /register");
  }
});

const flows = await step("GET /login flows", () => anon.loginFlows());
check(
  flows.flows.some((f) => f.type === "m.login.password"),
  `no m.login.password flow: ${JSON.stringify(flows)}`,
);

async function login(name) {
  return anon.loginRequest({
    type: "m.login.password",
    identifier: { type: "m.id.user", user: `${name}_${suffix}` },
    password: PASSWORD,
    initial_device_display_name: "js-sdk login",
  });
}

const alice = authed(await step("login alice", () => login("alice")));
const bobLogin = await step("login bob", () => login("bob"));
const bob = authed(bobLogin);
const bobId = bobLogin.user_id;
await step("whoami", async () => {
  const me = await bob.whoami();
  check(me.user_id === bobId, `whoami says ${me.user_id}`);
  check(me.device_id === bobLogin.device_id, `whoami device ${me.device_id}`);
});

const bobSync = { since: undefined };
const aliceSync = { since: undefined };
await step("initial syncs", async () => {
  bobSync.since = (await rawSync(bob)).next_batch;
  aliceSync.since = (await rawSync(alice)).next_batch;
  check(bobSync.since && aliceSync.since, "initial /sync without next_batch");
});

const roomId = await step("createRoom", async () => {
  const r = await alice.createRoom({ name: "js room", topic: "sdk", preset: "private_chat" });
  check(r.room_id?.startsWith("!"), `bad room_id ${r.room_id}`);
  return r.room_id;
});

await step("invite bob", () => alice.invite(roomId, bobId));

await step("bob's /sync shows the invite", async () => {
  const resp = await syncUntil(bob, bobSync, (r) => r.rooms?.invite?.[roomId], "the invite");
  const events = resp.rooms.invite[roomId].invite_state?.events ?? [];
  check(
    events.some((e) => e.type === "m.room.name" && e.content?.name === "js room"),
    `invite_state lacks the room name: ${JSON.stringify(events)}`,
  );
  check(
    events.some(
      (e) => e.type === "m.room.member" && e.state_key === bobId && e.content?.membership === "invite",
    ),
    "invite_state lacks bob's invite membership",
  );
});

await step("bob joins", async () => {
  await bob.joinRoom(roomId);
  const joined = await bob.getJoinedRooms();
  check(joined.joined_rooms.includes(roomId), "joined_rooms lacks the room");
});

const sent = [];
await step("send messages (txnId idempotent)", async () => {
  for (let i = 0; i < 6; i++) {
    const [client, who] = i % 2 ? [bob, "bob"] : [alice, "alice"];
    const body = `${who} says ${i}`;
    const content = { msgtype: "m.text", body };
    const txnId = `js-${suffix}-${i}`;
    const r = await client.sendEvent(roomId, "m.room.message", content, txnId);
    check(r.event_id?.startsWith("$"), `bad event_id ${r.event_id}`);
    const path = `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txnId}`;
    const again = await client.http.authedRequest(Method.Put, path, undefined, content);
    check(again.event_id === r.event_id, `resend gave ${again.event_id}, first ${r.event_id}`);
    sent.push({ id: r.event_id, body });
  }
});

await step("bob's /sync shows the join and every message", async () => {
  const seen = new Set();
  let sawJoinState = false;
  await syncUntil(
    bob,
    bobSync,
    (r) => {
      const room = r.rooms?.join?.[roomId];
      if (room) {
        const stateEvents = [...(room.state?.events ?? []), ...(room.timeline?.events ?? [])];
        if (stateEvents.some((e) => e.type === "m.room.create")) sawJoinState = true;
        for (const e of room.timeline?.events ?? []) seen.add(e.event_id);
      }
      return sent.every((s) => seen.has(s.id));
    },
    "every message",
  );
  check(sawJoinState, "the first sync after joining carried no room state (m.room.create)");
});

let history = [];
let gap; // the `end` of the last backwards page that had one
let newerThanGap = 0; // how many events of `history` are newer than `gap`
await step("/messages backwards from the sync token", async () => {
  let from = bobSync.since;
  for (let i = 0; i < 60; i++) {
    const page = await bob.createMessagesRequest(roomId, from, 3, Direction.Backward);
    check(Array.isArray(page.chunk), "no chunk");
    check(page.chunk.length <= 3, `limit=3 gave ${page.chunk.length} events`);
    check(typeof page.start === "string", "no start token");
    history.push(...page.chunk);
    if (!page.end || page.chunk.length === 0) break;
    gap = page.end;
    newerThanGap = history.length;
    from = page.end;
  }
  const ids = history.map((e) => e.event_id);
  check(new Set(ids).size === ids.length, "an event came twice while paginating");
  const messages = history.filter((e) => e.type === "m.room.message").map((e) => e.event_id);
  const expected = sent.map((s) => s.id).reverse();
  check(
    JSON.stringify(messages) === JSON.stringify(expected),
    `messages newest first ${JSON.stringify(messages)} != ${JSON.stringify(expected)}`,
  );
  check(history.at(-1)?.type === "m.room.create", `oldest event is ${history.at(-1)?.type}`);
  check(gap, "no backwards page had an `end` token");
});

await step("/messages forwards from a backwards `end` token", async () => {
  // The `end` of a backwards page is the gap before its oldest event: paging forwards
  // from it gives back exactly the events that are newer, oldest first.
  const page = await bob.createMessagesRequest(roomId, gap, 100, Direction.Forward);
  const got = page.chunk.map((e) => e.event_id);
  const expected = history.slice(0, newerThanGap).map((e) => e.event_id).reverse();
  check(
    JSON.stringify(got) === JSON.stringify(expected),
    `forwards from ${gap}: ${JSON.stringify(got)} != ${JSON.stringify(expected)}`,
  );
});

const victim = sent[0].id;
await step("alice redacts her first message", async () => {
  const r = await alice.redactEvent(roomId, victim, undefined, { reason: "typo" });
  check(r.event_id?.startsWith("$"), `bad redaction event_id ${r.event_id}`);
});

await step("bob sees the redaction", async () => {
  await syncUntil(
    bob,
    bobSync,
    (r) =>
      joinedTimeline(r, roomId).some(
        (e) => e.type === "m.room.redaction" && (e.redacts ?? e.content?.redacts) === victim,
      ),
    "the redaction",
  );
  const ev = await bob.fetchRoomEvent(roomId, victim);
  check(Object.keys(ev.content ?? {}).length === 0, `content not stripped: ${JSON.stringify(ev)}`);
  check(ev.unsigned?.redacted_because, "no unsigned.redacted_because on the redacted event");
});

await step("POST /search finds the messages, not the redacted one", async () => {
  const body = {
    search_categories: {
      room_events: {
        search_term: "SAYS",
        order_by: "recent",
        filter: { rooms: [roomId], limit: 3 },
        event_context: { before_limit: 1, after_limit: 1 },
      },
    },
  };
  const first = (await bob.search({ body })).search_categories.room_events;
  check(first.next_batch, `no next_batch: ${JSON.stringify(first)}`);
  const rest = (await bob.search({ body, next_batch: first.next_batch })).search_categories
    .room_events;
  const got = [...first.results, ...rest.results].map((r) => r.result.event_id);
  const expected = sent.slice(1).map((s) => s.id).reverse();
  check(
    JSON.stringify(got) === JSON.stringify(expected),
    `search results ${JSON.stringify(got)} != ${JSON.stringify(expected)}`,
  );
  check(first.count === 5 && first.highlights.includes("says"), JSON.stringify(first));
  check(Array.isArray(first.results[0].context?.events_before), "no context in the results");
});

await step("bob leaves", async () => {
  await bob.leave(roomId);
  const joined = await bob.getJoinedRooms();
  check(!joined.joined_rooms.includes(roomId), "joined_rooms still lists the room");
  await syncUntil(bob, bobSync, (r) => r.rooms?.leave?.[roomId], "his own leave (rooms.leave)");
});

await step("alice sees bob leave", () =>
  syncUntil(
    alice,
    aliceSync,
    (r) =>
      joinedTimeline(r, roomId).some(
        (e) => e.type === "m.room.member" && e.state_key === bobId && e.content?.membership === "leave",
      ),
    "bob's leave",
  ),
);

if (withStartClient) {
  await step("startClient: scrollback, then typing, reactions, receipts, presence", async () => {
    const carol = authed(
      await (async () => {
        await anon.registerRequest({
          username: `carol_${suffix}`,
          password: PASSWORD,
          auth: { type: "m.login.dummy" },
        });
        return login("carol");
      })(),
    );
    await alice.invite(roomId, carol.getUserId());
    await carol.joinRoom(roomId);
    const prepared = new Promise((resolve, reject) => {
      carol.on(ClientEvent.Sync, (state, _prev, data) => {
        if (state === SyncState.Prepared) resolve();
        if (state === SyncState.Error) reject(new Error(`sync error: ${describe(data?.error)}`));
      });
      setTimeout(() => reject(new Error("startClient did not reach PREPARED in 20 s")), 20_000);
    });
    await carol.startClient({ initialSyncLimit: 2, lazyLoadMembers: false });
    try {
      await prepared;
      const room = carol.getRoom(roomId);
      check(room, "the room is not in the client after the first sync");
      check(room.name === "js room", `room name is ${room.name}`);
      for (let i = 0; i < 20 && room.getLiveTimeline().getPaginationToken(Direction.Backward); i++) {
        await carol.scrollback(room, 5);
      }
      const ids = room.getLiveTimeline().getEvents().map((e) => e.getId());
      for (const s of sent) check(ids.includes(s.id), `scrollback lacks ${s.id}`);

      // What another member does reaches carol's running client, as Element shows it.
      const aliceId = alice.getUserId();
      const target = sent[sent.length - 1].id;
      await alice.sendTyping(roomId, true, 20_000);
      await waitFor(() => room.getMember(aliceId)?.typing === true, "alice typing");
      await alice.sendTyping(roomId, false);
      await waitFor(() => room.getMember(aliceId)?.typing === false, "alice stopped typing");
      const reaction = await alice.sendEvent(roomId, "m.reaction", {
        "m.relates_to": { rel_type: "m.annotation", event_id: target, key: "👍" },
      });
      await waitFor(
        () => room.getLiveTimeline().getEvents().some((e) => e.getId() === reaction.event_id),
        "alice's reaction in the timeline",
      );
      const annotations = await carol.relations(roomId, target, "m.annotation", "m.reaction");
      check(
        annotations.events.some((e) => e.getContent()["m.relates_to"]?.key === "👍"),
        "the reaction is not in /relations",
      );
      const receiptPath = `/rooms/${encodeURIComponent(roomId)}/receipt/m.read/${encodeURIComponent(reaction.event_id)}`;
      await alice.http.authedRequest(Method.Post, receiptPath, undefined, {});
      await waitFor(
        () => room.getEventReadUpTo(aliceId) === reaction.event_id,
        "alice's read receipt",
      );
      await alice.setPresence({ presence: "unavailable", status_msg: "lunch" });
      await waitFor(() => {
        const user = carol.getUser(aliceId);
        return user?.presence === "unavailable" && user?.presenceStatusMsg === "lunch";
      }, "alice's presence");
    } finally {
      carol.stopClient();
    }
  });
}

await step("logout alice", async () => {
  await alice.logout();
  try {
    await alice.whoami();
  } catch (err) {
    check(err.errcode === "M_UNKNOWN_TOKEN", `whoami after logout: ${describe(err)}`);
    return;
  }
  throw new Error("whoami still works after logout");
});

clearTimeout(watchdog);
console.log("PASS");
process.exit(0);
