// The user's own things and room membership: profile (name, avatar, description),
// presence status, channel mute (push rule), collapsed categories (account data), DMs,
// joining/leaving, member lists, and the OpenID token voice needs.

import type { MatrixClient } from "./client";
import { DESCRIPTION_FIELD, UI_ACCOUNT_DATA } from "./guild";
import { MatrixError, path } from "./http";
import { applyAccountDataEvent, applyMembers, applyPresence, applyProfile, presenceFromContent } from "./reduce";
import type { Json, MatrixEvent } from "./types";
import { collapsedCategories, type ConcordUi, type Status } from "./views";

// -- profile ---------------------------------------------------------------------------

/** GET a user's global profile (name, avatar, description) into the store. */
export async function fetchProfile(client: MatrixClient, userId: string): Promise<Json> {
  const profile = await client.http.get<Json>(path`/_matrix/client/v3/profile/${userId}`);
  client.store.update((s) => applyProfile(s, userId, profile));
  return profile;
}

async function putProfileField(client: MatrixClient, field: string, value: string): Promise<void> {
  await client.http.put(path`/_matrix/client/v3/profile/${client.userId}/${field}`, { [field]: value });
  client.store.update((s) => applyProfile(s, client.userId, { [field]: value }));
}

export function setDisplayName(client: MatrixClient, name: string): Promise<void> {
  return putProfileField(client, "displayname", name);
}

/** Our avatar: an mxc:// URI (upload the image or GIF first with media.ts `upload`). */
export function setAvatarUrl(client: MatrixClient, mxc: string): Promise<void> {
  return putProfileField(client, "avatar_url", mxc);
}

/** Our free-text description (profile field im.concord.description). */
export function setDescription(client: MatrixClient, text: string): Promise<void> {
  return putProfileField(client, DESCRIPTION_FIELD, text);
}

// -- presence ---------------------------------------------------------------------------

/** Set our status: online, unavailable (Away), busy, offline (invisible). */
export async function setStatus(client: MatrixClient, status: Status, statusMsg?: string): Promise<void> {
  const body: Json = { presence: status };
  if (statusMsg !== undefined) body["status_msg"] = statusMsg;
  await client.http.put(path`/_matrix/client/v3/presence/${client.userId}/status`, body);
  client.store.update((s) =>
    applyPresence(s, client.userId, {
      presence: status,
      lastActiveTs: client.now(),
      currentlyActive: status === "online",
      statusMsg: statusMsg ?? s.presence[client.userId]?.statusMsg ?? null,
    }),
  );
}

/**
 * Read a user's presence now (GET /presence/{userId}/status): sync only reports changes,
 * so members who have not changed since we connected would show as offline until then.
 */
export async function fetchPresence(client: MatrixClient, userId: string): Promise<void> {
  const body = await client.http.get<Json>(path`/_matrix/client/v3/presence/${userId}/status`);
  const now = client.now();
  client.store.update((s) => applyPresence(s, userId, presenceFromContent(body, now)));
}

// -- account data -------------------------------------------------------------------------

export async function setAccountData(client: MatrixClient, type: string, content: Json): Promise<void> {
  await client.http.put(path`/_matrix/client/v3/user/${client.userId}/account_data/${type}`, content);
  client.store.update((s) => applyAccountDataEvent(s, type, content));
}

/** Remember a category as collapsed or expanded (account data im.concord.ui, all devices). */
export function setCategoryCollapsed(client: MatrixClient, guildId: string, categoryId: string, collapsed: boolean): Promise<void> {
  const s = client.store.value;
  const ui = { ...((s.accountData[UI_ACCOUNT_DATA] ?? {}) as ConcordUi) };
  const current = new Set(collapsedCategories(s, guildId));
  if (collapsed) current.add(categoryId);
  else current.delete(categoryId);
  ui.collapsed_categories = { ...(ui.collapsed_categories ?? {}), [guildId]: [...current] };
  return setAccountData(client, UI_ACCOUNT_DATA, ui as Json);
}

/**
 * Mute or unmute a channel with a room-kind push rule whose actions are empty (spec:
 * "Push rules": `dont_notify` is the deprecated spelling of `[]`). Room rules rank below
 * the mention override rules, so a muted channel still notifies mentions — as Discord
 * does, and as roomBadge shows. Unmuting also removes an override rule an older client
 * may have used.
 */
export async function setMuted(client: MatrixClient, roomId: string, muted: boolean): Promise<void> {
  const rules = (client.store.value.accountData["m.push_rules"] ?? {}) as { global?: Json };
  const global = { ...((rules.global ?? {}) as Json) };
  const roomRules = ((global["room"] ?? []) as Json[]).filter((r) => r["rule_id"] !== roomId);
  if (muted) {
    await client.http.put(path`/_matrix/client/v3/pushrules/global/room/${roomId}`, { actions: [] });
    roomRules.unshift({ rule_id: roomId, actions: [], enabled: true, default: false });
  } else {
    await ignoreNotFound(client.http.delete(path`/_matrix/client/v3/pushrules/global/room/${roomId}`));
    const overrides = (global["override"] ?? []) as Json[];
    if (overrides.some((r) => r["rule_id"] === roomId)) {
      await ignoreNotFound(client.http.delete(path`/_matrix/client/v3/pushrules/global/override/${roomId}`));
      global["override"] = overrides.filter((r) => r["rule_id"] !== roomId);
    }
  }
  global["room"] = roomRules;
  client.store.update((s) => applyAccountDataEvent(s, "m.push_rules", { ...rules, global }));
}

/** Unmuting what is already unmuted (elsewhere) reaches the goal: not an error. */
async function ignoreNotFound(request: Promise<unknown>): Promise<void> {
  try {
    await request;
  } catch (err) {
    if (!(err instanceof MatrixError && err.errcode === "M_NOT_FOUND")) throw err;
  }
}

// -- rooms -------------------------------------------------------------------------------

/** Open (or create once) the DM with `userId` (POST /_matrix/client/unstable/im.concord/dm). */
export async function openDm(client: MatrixClient, userId: string): Promise<string> {
  const reply = await client.http.post<{ room_id: string }>("/_matrix/client/unstable/im.concord/dm", { user_id: userId });
  return reply.room_id;
}

export async function joinRoom(client: MatrixClient, roomIdOrAlias: string, via: string[] = []): Promise<string> {
  const reply = await client.http.post<{ room_id: string }>(path`/_matrix/client/v3/join/${roomIdOrAlias}`, {}, {
    query: via.length ? { server_name: via[0] } : undefined,
  });
  return reply.room_id;
}

export async function leaveRoom(client: MatrixClient, roomId: string): Promise<void> {
  await client.http.post(path`/_matrix/client/v3/rooms/${roomId}/leave`, {});
}

export async function invite(client: MatrixClient, roomId: string, userId: string): Promise<void> {
  await client.http.post(path`/_matrix/client/v3/rooms/${roomId}/invite`, { user_id: userId });
}

export async function kick(client: MatrixClient, roomId: string, userId: string, reason?: string): Promise<void> {
  await client.http.post(path`/_matrix/client/v3/rooms/${roomId}/kick`, reason ? { user_id: userId, reason } : { user_id: userId });
}

/** Load a room's full member list (sync lazy-loads members). */
export async function loadMembers(client: MatrixClient, roomId: string): Promise<void> {
  const reply = await client.http.get<{ chunk: MatrixEvent[] }>(path`/_matrix/client/v3/rooms/${roomId}/members`, {
    not_membership: "leave",
  });
  client.store.update((s) => applyMembers(s, roomId, reply.chunk ?? []));
}

export interface DirectoryUser {
  user_id: string;
  display_name?: string;
  avatar_url?: string;
}

/** Search users to start a DM with (spec: POST /user_directory/search). */
export async function searchUsers(client: MatrixClient, term: string, limit = 10): Promise<DirectoryUser[]> {
  const reply = await client.http.post<{ results?: DirectoryUser[] }>("/_matrix/client/v3/user_directory/search", {
    search_term: term,
    limit,
  });
  return reply.results ?? [];
}

// -- voice --------------------------------------------------------------------------------

export interface OpenIdToken {
  access_token: string;
  token_type: string;
  matrix_server_name: string;
  expires_in: number;
}

/** An OpenID token proving who we are to the SFU (README "Voice (SFU)" step 1). */
export function requestOpenIdToken(client: MatrixClient): Promise<OpenIdToken> {
  return client.http.post(path`/_matrix/client/v3/user/${client.userId}/openid/request_token`, {});
}

/** The SFU foci our homeserver announces (org.matrix.msc4143.rtc_foci in its well-known). */
export async function sfuFoci(client: MatrixClient): Promise<{ type: string; url: string }[]> {
  const wk = await client.wellKnown();
  const foci = wk["org.matrix.msc4143.rtc_foci"];
  if (!Array.isArray(foci)) return [];
  return foci.filter((f): f is { type: string; url: string } => !!f && typeof f.type === "string" && typeof f.url === "string");
}
