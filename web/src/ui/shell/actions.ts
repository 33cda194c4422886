/**
 * The shell's requests: Concord's guild endpoints (homeserver/api/client/concord.py,
 * concord_dm.py) and the plain client-server calls for state, profile, presence, account
 * data and push rules. Each is one or a few HTTP calls; the result comes back through
 * sync, so nothing here touches the store.
 */

type Json = Record<string, unknown>;

/** The structural subset of web/src/matrix's Http the shell uses. */
export interface HttpLike {
  baseUrl: string;
  accessToken: string | null;
  get<T = Json>(p: string, query?: Record<string, string | number | boolean | undefined | null>): Promise<T>;
  post<T = Json>(p: string, body?: unknown): Promise<T>;
  put<T = Json>(p: string, body?: unknown): Promise<T>;
  delete<T = Json>(p: string): Promise<T>;
}

const CONCORD = "/_matrix/client/unstable/im.concord";
const V3 = "/_matrix/client/v3";
const e = encodeURIComponent;

export class ShellActions {
  constructor(
    readonly http: HttpLike,
    readonly userId: string,
    /** The client's mxc → <img src> (web/src/matrix MatrixClient.mediaUrl). */
    readonly mediaUrl: (mxc: string | null) => string | null,
  ) {}

  // -- guilds (POST/DELETE /guilds; the steward makes the rooms) ----------------------
  createGuild(name: string, avatarUrl: string | null): Promise<{ room_id: string }> {
    return this.http.post(`${CONCORD}/guilds`, avatarUrl ? { name, avatar_url: avatarUrl } : { name });
  }

  deleteGuild(guildId: string): Promise<Json> {
    return this.http.delete(`${CONCORD}/guilds/${e(guildId)}`);
  }

  createChannel(guildId: string, name: string, kind: "text" | "voice", category: string | null) {
    return this.http.post<{ room_id: string }>(`${CONCORD}/guilds/${e(guildId)}/channels`, { name, kind, category });
  }

  /** Move and/or rename a channel (PUT .../channels/{id} {category, order, name}). */
  updateChannel(guildId: string, roomId: string, body: { category?: string | null; order?: string; name?: string }) {
    return this.http.put(`${CONCORD}/guilds/${e(guildId)}/channels/${e(roomId)}`, body);
  }

  deleteChannel(guildId: string, roomId: string) {
    return this.http.delete(`${CONCORD}/guilds/${e(guildId)}/channels/${e(roomId)}`);
  }

  createCategory(guildId: string, name: string) {
    return this.http.post(`${CONCORD}/guilds/${e(guildId)}/categories`, { name });
  }

  updateCategory(guildId: string, categoryId: string, body: { name?: string; order?: number }) {
    return this.http.put(`${CONCORD}/guilds/${e(guildId)}/categories/${e(categoryId)}`, body);
  }

  // -- state ---------------------------------------------------------------------------
  setState(roomId: string, type: string, stateKey: string, body: Json) {
    return this.http.put(`${V3}/rooms/${e(roomId)}/state/${e(type)}/${e(stateKey)}`, body);
  }

  invite(roomId: string, userId: string) {
    return this.http.post(`${V3}/rooms/${e(roomId)}/invite`, { user_id: userId });
  }

  join(roomId: string) {
    return this.http.post(`${V3}/join/${e(roomId)}`, {});
  }

  leave(roomId: string) {
    return this.http.post(`${V3}/rooms/${e(roomId)}/leave`, {});
  }

  openDm(userId: string): Promise<{ room_id: string }> {
    return this.http.post(`${CONCORD}/dm`, { user_id: userId });
  }

  // -- the user --------------------------------------------------------------------------
  setProfileField(field: string, value: string) {
    return this.http.put(`${V3}/profile/${e(this.userId)}/${e(field)}`, { [field]: value });
  }

  getProfile(userId: string): Promise<Json> {
    return this.http.get(`${V3}/profile/${e(userId)}`);
  }

  /** spec: "Presence": online / unavailable (Away) / busy / offline. */
  setPresence(presence: string) {
    return this.http.put(`${V3}/presence/${e(this.userId)}/status`, { presence });
  }

  setAccountData(type: string, body: Json) {
    return this.http.put(`${V3}/user/${e(this.userId)}/account_data/${e(type)}`, body);
  }

  /**
   * Mute a channel as Element does: a room push rule with no actions (spec: "Push
   * Rules", `room` kind; an empty actions list means do not notify).
   */
  setMuted(roomId: string, muted: boolean) {
    const rule = `${V3}/pushrules/global/room/${e(roomId)}`;
    return muted ? this.http.put(rule, { actions: [] }) : this.http.delete(rule);
  }

  pushRules(): Promise<{ global?: { room?: { rule_id: string; actions: unknown[] }[] } }> {
    return this.http.get(`${V3}/pushrules/`);
  }

  // -- media -----------------------------------------------------------------------------
  /** spec: "Content repository" POST /_matrix/media/v3/upload → content_uri. */
  async upload(file: File): Promise<string> {
    const response = await fetch(
      `${this.http.baseUrl}/_matrix/media/v3/upload?filename=${e(file.name)}`,
      {
        method: "POST",
        headers: {
          Authorization: `Bearer ${this.http.accessToken ?? ""}`,
          "Content-Type": file.type || "application/octet-stream",
        },
        body: file,
      },
    );
    const body = (await response.json().catch(() => ({}))) as Json;
    if (!response.ok || typeof body["content_uri"] !== "string") {
      throw new Error(typeof body["error"] === "string" ? `Upload failed: ${body["error"]}` : "Upload failed.");
    }
    return body["content_uri"];
  }
}
