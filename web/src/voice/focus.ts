// Finding the SFU and getting into it (README "Voice (SFU)"): the focus is announced in
// /.well-known/matrix/client as org.matrix.msc4143.rtc_foci [{type: "im.concord.sfu",
// url}] (MSC4143); an OpenID token from our homeserver (spec: client-server "OpenID",
// POST /user/{userId}/openid/request_token) is traded at POST {sfu}/token for a short
// JWT and the signaling WebSocket's URL.

import { MatrixError, NETWORK_ERROR } from "../matrix/http";

export const RTC_FOCI = "org.matrix.msc4143.rtc_foci";
export const FOCUS_TYPE = "im.concord.sfu";

/** The parts of a signed-in session voice needs (the matrix client's Session fits). */
export interface VoiceAccount {
  baseUrl: string;
  userId: string;
  accessToken: string;
  deviceId: string;
}

export interface SfuGrant {
  jwt: string;
  /** The signaling WebSocket (ws:// or wss://). */
  url: string;
  expiresAtMs: number;
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** The first im.concord.sfu focus of a well-known document, or null. */
export function sfuUrlFrom(wellKnown: Record<string, unknown>): string | null {
  const foci = wellKnown[RTC_FOCI];
  if (!Array.isArray(foci)) return null;
  for (const focus of foci) {
    const f = focus as { type?: unknown; url?: unknown } | null;
    if (f && f.type === FOCUS_TYPE && typeof f.url === "string" && /^https?:\/\//.test(f.url)) {
      return f.url.replace(/\/+$/, "");
    }
  }
  return null;
}

const PLAIN_SFU: Record<string, string> = {
  M_FORBIDDEN: "You can't join this voice channel.",
  M_UNKNOWN_TOKEN: "The voice server didn't accept your sign-in. Please try again.",
};

async function call(
  fetchImpl: Fetch,
  url: string,
  init: RequestInit,
  atSfu = false,
): Promise<Record<string, unknown>> {
  let resp: Response;
  try {
    resp = await fetchImpl(url, init);
  } catch {
    throw new MatrixError(0, NETWORK_ERROR, "network error");
  }
  let body: Record<string, unknown> = {};
  try {
    body = (await resp.json()) as Record<string, unknown>;
  } catch {
    body = {};
  }
  if (!resp.ok) {
    const errcode = typeof body.errcode === "string" ? body.errcode : "M_UNKNOWN";
    const error = typeof body.error === "string" ? body.error : "";
    const err = new MatrixError(resp.status, errcode, error, body);
    const plain = atSfu ? PLAIN_SFU[errcode] : undefined;
    if (plain) err.message = error ? `${plain} (${error})` : plain;
    throw err;
  }
  return body;
}

/**
 * An SFU JWT for `roomId`: OpenID token from the homeserver, traded at the SFU.
 * Errors are MatrixErrors whose message is plain words for the UI.
 */
export async function requestGrant(
  fetchImpl: Fetch,
  account: VoiceAccount,
  sfuUrl: string,
  roomId: string,
): Promise<SfuGrant> {
  const openid = await call(
    fetchImpl,
    `${account.baseUrl}/_matrix/client/v3/user/${encodeURIComponent(account.userId)}/openid/request_token`,
    {
      method: "POST",
      headers: { Authorization: `Bearer ${account.accessToken}`, "Content-Type": "application/json" },
      body: "{}",
    },
  );
  const granted = await call(fetchImpl, `${sfuUrl}/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ room_id: roomId, device_id: account.deviceId, openid_token: openid }),
  }, true);
  if (typeof granted.jwt !== "string" || typeof granted.url !== "string") {
    throw new MatrixError(502, "M_UNKNOWN", "The voice server gave an unusable answer.");
  }
  const expires = typeof granted.expires_at_ms === "number" ? granted.expires_at_ms : 0;
  return { jwt: granted.jwt, url: granted.url, expiresAtMs: expires };
}
