/**
 * Concord's client of the Matrix client-server API (no UI). Usage:
 *
 *   import * as mx from "../matrix";
 *
 *   // Log in (any homeserver: discovery follows /.well-known/matrix/client):
 *   const { baseUrl } = await mx.discover("@alice:example.org"); // or a server name / URL
 *   const session = await mx.login(baseUrl, "@alice:example.org", password);
 *   //   or mx.register(baseUrl, "alice", password, { registrationToken })
 *   //   or, on reload, mx.loadSession()  (null when logged out)
 *   const client = new mx.MatrixClient(session);  // { autoJoinGuildChannels: true } to
 *   client.start();                           //   accept the steward's channel invites
 *                                             // WebSocket sync, long-poll fallback
 *
 *   // Read: signals, so components re-render when they change.
 *   const s = client.store.state.value;       // StoreState (store.ts)
 *   s.ready                                   // first sync applied
 *   client.store.syncStatus.value, .syncError.value, .loggedOut.value, .uploads.value
 *   // Pure views (views.ts, timeline.ts, guild.ts, power.ts), e.g. in a computed():
 *   mx.guildsOf(s)  mx.guildLayout(s, guildId)  mx.dmsOf(s)  mx.plainRoomsOf(s)  mx.invitesOf(s)
 *   mx.messageItems(s, roomId)  mx.memberList(s, roomId)   mx.typingNames(s, roomId)
 *   mx.channelAbilities(s, roomId)  mx.roomBadge(s, roomId)  mx.displayName(s, userId, roomId)
 *   mx.guildOf(s, guildId) → Guild; mx.sortedRoles(g), mx.mayManageRole(g, me, roleId), ...
 *
 *   // Write: actions.ts — every function takes the client first; failures throw a
 *   // MatrixError whose .message is plain words (mx.errorMessage(err) for anything).
 *   await mx.sendText(client, roomId, { body, userMentions, roleMentions, replyTo });
 *   await mx.retrySend(client, roomId, txnId);           // a failed echo, same txn id
 *   await mx.sendFile(client, roomId, file, file.name);  // progress: store.uploads
 *   await mx.createGuild(client, { name });  mx.moveChannel(client, guildId, id, cat, index)
 *   await mx.setMuted(client, roomId, true);   // room push rule, mentions still notify
 *   await mx.loadMembers(client, roomId);      // sync lazy-loads members; fetchPresence too
 *   await client.logout();
 *   client.mediaUrl("mxc://server/id", { width: 64, height: 64 }); // <img src>
 */

export * from "./actions";
export * from "./auth";
export * from "./client";
export * from "./guild";
export * from "./power";
export * from "./http";
export * from "./members";
export * from "./mentions";
export * from "./reduce";
export * from "./relations";
export * from "./store";
export * from "./sync";
export * from "./timeline";
export * from "./unsent";
export * from "./views";
export type * from "./types";
