import { describe, expect, it } from "vitest";

import { MatrixClient, discover, register } from "../../src/matrix";

// Opt-in: CONCORD_HS=http://127.0.0.1:PORT (a homeserver with registration open).
const HS = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env["CONCORD_HS"];

async function until(check: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.runIf(HS)("live", () => {
  it("registers, syncs over ws, sees a created guild", async () => {
    const { baseUrl } = await discover(HS!);
    const name = `u${Date.now()}`;
    const session = await register(baseUrl, name, "pw-very-long-1");
    const client = new MatrixClient(session, { storage: null });
    client.start();
    await until(() => client.store.state.value.ready);
    console.log("transport", client.store.transport.value);
    const created = await client.http.post<{ room_id: string }>("/_matrix/client/unstable/im.concord/guilds", { name: "G" });
    await until(() => client.store.state.value.rooms[created.room_id]?.membership === "join");
    const room = client.store.state.value.rooms[created.room_id]!;
    console.log(JSON.stringify(Object.keys(room.state)), room.timeline.length, room.prevBatch);
    console.log(JSON.stringify(room.state["m.room.create"]));
    console.log(JSON.stringify(room.state["m.room.power_levels"]));
    console.log(JSON.stringify(Object.values(room.state["m.space.child"] ?? {})));
    expect(client.store.transport.value).toBe("ws");
    client.stop();
  });
});
