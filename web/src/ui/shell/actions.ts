/**
 * The shell's actions bound to one client: each is a call into web/src/matrix (the
 * Concord endpoints in concord.ts, profile/presence/push rules/rooms in account.ts,
 * uploads in media.ts), which also updates the store at once where it can. Components
 * hold this object (ShellContext) rather than the client and a dozen imports.
 */

import {
  createCategory,
  deleteCategory,
  createChannel,
  createGuild,
  deleteChannel,
  deleteGuild,
  fetchProfile,
  invite,
  joinRoom,
  kick,
  leaveRoom,
  type MatrixClient,
  openDm,
  setAccountData,
  setAvatarUrl,
  setDescription,
  setDisplayName,
  setMuted,
  setState,
  setStatus,
  type Status,
  updateCategory,
  updateChannel,
  upload,
} from "../../matrix";

type Json = Record<string, unknown>;

export class ShellActions {
  constructor(readonly client: MatrixClient) {}

  get userId(): string {
    return this.client.userId;
  }

  // -- guilds (the steward makes the rooms) ------------------------------------------
  createGuild(name: string, avatarUrl: string | null): Promise<{ room_id: string }> {
    return createGuild(this.client, avatarUrl ? { name, avatar_url: avatarUrl } : { name });
  }

  deleteGuild(guildId: string): Promise<void> {
    return deleteGuild(this.client, guildId);
  }

  createChannel(guildId: string, name: string, kind: "text" | "voice", category: string | null) {
    return createChannel(this.client, guildId, { name, kind, category });
  }

  /** Move and/or rename a channel (PUT .../channels/{id} {category, order, name}). */
  updateChannel(guildId: string, roomId: string, change: { category?: string | null; order?: string; name?: string }) {
    return updateChannel(this.client, guildId, roomId, change);
  }

  deleteChannel(guildId: string, roomId: string): Promise<void> {
    return deleteChannel(this.client, guildId, roomId);
  }

  createCategory(guildId: string, name: string) {
    return createCategory(this.client, guildId, name);
  }

  updateCategory(guildId: string, categoryId: string, change: { name?: string; order?: number }) {
    return updateCategory(this.client, guildId, categoryId, change);
  }

  deleteCategory(guildId: string, categoryId: string): Promise<void> {
    return deleteCategory(this.client, guildId, categoryId);
  }

  // -- rooms -----------------------------------------------------------------------------
  setState(roomId: string, type: string, stateKey: string, content: Json): Promise<string> {
    return setState(this.client, roomId, type, stateKey, content);
  }

  invite(roomId: string, userId: string): Promise<void> {
    return invite(this.client, roomId, userId);
  }

  join(roomId: string): Promise<string> {
    return joinRoom(this.client, roomId);
  }

  kick(roomId: string, userId: string): Promise<void> {
    return kick(this.client, roomId, userId);
  }

  leave(roomId: string): Promise<void> {
    return leaveRoom(this.client, roomId);
  }

  async openDm(userId: string): Promise<{ room_id: string }> {
    return { room_id: await openDm(this.client, userId) };
  }

  // -- the user --------------------------------------------------------------------------
  getProfile(userId: string): Promise<Json> {
    return fetchProfile(this.client, userId);
  }

  /** displayname, avatar_url or im.concord.description (spec v1.16 custom profile fields). */
  setProfileField(field: "displayname" | "avatar_url" | "im.concord.description", value: string): Promise<void> {
    const set = { displayname: setDisplayName, avatar_url: setAvatarUrl, "im.concord.description": setDescription }[field];
    return set(this.client, value);
  }

  setPresence(status: Status): Promise<void> {
    return setStatus(this.client, status);
  }

  setAccountData(type: string, content: Json): Promise<void> {
    return setAccountData(this.client, type, content);
  }

  setMuted(roomId: string, muted: boolean): Promise<void> {
    return setMuted(this.client, roomId, muted);
  }

  // -- media -----------------------------------------------------------------------------
  upload(file: File): Promise<string> {
    return upload(this.client, file, file.name);
  }

  /** An mxc:// URI as an <img> src (the download, so GIFs stay animated). */
  mediaUrl(mxc: string | null): string | null {
    return this.client.mediaUrl(mxc);
  }
}
