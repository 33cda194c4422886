/**
 * Concord's client of the Matrix client-server API (no UI). Usage:
 *
 *   import { discover, login, register, loadSession, MatrixClient } from "../matrix";
 *
 *   // Log in (any homeserver: discovery follows /.well-known/matrix/client):
 *   const { baseUrl } = await discover("@alice:example.org");   // or a server name / URL
 *   const session = await login(baseUrl, "@alice:example.org", password);
 *   //   or: await register(baseUrl, "alice", password, { registrationToken })
 *   //   or, on reload: loadSession()   (null when logged out)
 *   const client = new MatrixClient(session);
 *   client.start();                     // WebSocket sync, long-poll fallback
 *
 *   // Read (signals: components re-render when they change):
 *   client.store.state.value.rooms[roomId]        // RoomState: state, timeline, pending, ...
 *   client.store.state.value.ready                // first sync applied
 *   client.store.syncStatus.value / .syncError.value / .loggedOut.value
 *   views: guildsOf(state), ... (views.ts)
 *
 *   // Write: actions (actions.ts) — every failure throws a MatrixError whose .message
 *   // is plain words for the UI (errorMessage(err) for any thrown value).
 *   await client.logout();
 *   client.mediaUrl("mxc://server/id", { width: 64, height: 64 })  // <img src>
 */

export * from "./auth";
export * from "./client";
export * from "./http";
export * from "./reduce";
export * from "./relations";
export * from "./store";
export * from "./sync";
export type * from "./types";
