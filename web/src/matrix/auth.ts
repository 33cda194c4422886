// Finding a homeserver, registering, logging in and out, and keeping the session
// (spec: client-server "Server Discovery", "Client Authentication", "Account registration").

import { Http, MatrixError, path, type FetchLike } from "./http";

export interface Session {
  baseUrl: string;
  userId: string;
  accessToken: string;
  deviceId: string;
}

/** What discovery learnt: where the client-server API is, and the raw well-known. */
export interface Discovery {
  baseUrl: string;
  wellKnown: Record<string, unknown>;
}

const SESSION_KEY = "concord.session";
const DISCOVERY_TIMEOUT_MS = 8_000;

/** The server name of a user id (`@alice:example.org` → `example.org`), or the input. */
export function serverNameOf(userIdOrServer: string): string {
  const text = userIdOrServer.trim();
  if (text.startsWith("@")) {
    const colon = text.indexOf(":");
    return colon < 0 ? "" : text.slice(colon + 1);
  }
  return text;
}

/** The localpart of `@alice:server` (or the input when it is not a full user id). */
export function localpartOf(userId: string): string {
  const text = userId.trim();
  if (!text.startsWith("@")) return text;
  const colon = text.indexOf(":");
  return colon < 0 ? text.slice(1) : text.slice(1, colon);
}

function candidatesFor(server: string): string[] {
  if (/^https?:\/\//.test(server)) return [server.replace(/\/+$/, "")];
  return [`https://${server}`, `http://${server}`];
}

async function isClientApi(baseUrl: string, fetchImpl?: FetchLike): Promise<boolean> {
  try {
    const versions = await new Http(baseUrl, null, fetchImpl).get<{ versions?: unknown }>(
      "/_matrix/client/versions",
      undefined,
      { noAuth: true, timeoutMs: DISCOVERY_TIMEOUT_MS, rateLimitRetries: 0 },
    );
    return Array.isArray(versions.versions);
  } catch {
    return false;
  }
}

/**
 * Find the homeserver of a user id, server name or URL (spec: "Well-known URIs"):
 * `https://<server>/.well-known/matrix/client` → `m.homeserver.base_url`, checked by
 * `GET /_matrix/client/versions`; without a well-known, the server itself (https, then
 * http, so a local test server on a bare host:port works). Throws a MatrixError with
 * plain words when nothing answers.
 */
export async function discover(userIdOrServer: string, fetchImpl?: FetchLike): Promise<Discovery> {
  const server = serverNameOf(userIdOrServer);
  if (!server) throw new MatrixError(0, "M_INVALID_PARAM", "That isn't a user id like @name:server.");
  for (const origin of candidatesFor(server)) {
    let wellKnown: Record<string, unknown> = {};
    try {
      wellKnown = await new Http(origin, null, fetchImpl).get("/.well-known/matrix/client", undefined, {
        noAuth: true,
        timeoutMs: DISCOVERY_TIMEOUT_MS,
        rateLimitRetries: 0,
      });
    } catch {
      wellKnown = {};
    }
    const hs = wellKnown["m.homeserver"] as { base_url?: unknown } | undefined;
    if (hs && typeof hs.base_url === "string") {
      const baseUrl = hs.base_url.replace(/\/+$/, "");
      // spec: FAIL_ERROR when the advertised base_url is not a homeserver.
      if (await isClientApi(baseUrl, fetchImpl)) return { baseUrl, wellKnown };
      continue;
    }
    if (await isClientApi(origin, fetchImpl)) return { baseUrl: origin, wellKnown };
  }
  throw new MatrixError(0, "CONCORD_DISCOVERY", `Can't find a Matrix homeserver for ${server}.`);
}

/** GET /.well-known/matrix/client of a known base URL (for the SFU foci); {} if absent. */
export async function wellKnownOf(baseUrl: string, fetchImpl?: FetchLike): Promise<Record<string, unknown>> {
  try {
    return await new Http(baseUrl, null, fetchImpl).get("/.well-known/matrix/client", undefined, {
      noAuth: true,
      timeoutMs: DISCOVERY_TIMEOUT_MS,
      rateLimitRetries: 0,
    });
  } catch {
    return {};
  }
}

interface LoginResponse {
  user_id: string;
  access_token: string;
  device_id: string;
  well_known?: { "m.homeserver"?: { base_url?: string } };
}

function sessionFrom(baseUrl: string, body: LoginResponse): Session {
  // spec: login response well_known overrides the base URL the client used.
  const advertised = body.well_known?.["m.homeserver"]?.base_url;
  return {
    baseUrl: (typeof advertised === "string" ? advertised : baseUrl).replace(/\/+$/, ""),
    userId: body.user_id,
    accessToken: body.access_token,
    deviceId: body.device_id,
  };
}

const DEVICE_NAME = "Concord web";

/** Password login (spec: "m.login.password"). `user` is a localpart or a full user id. */
export async function login(
  baseUrl: string,
  user: string,
  password: string,
  fetchImpl?: FetchLike,
): Promise<Session> {
  const http = new Http(baseUrl, null, fetchImpl);
  const body = await http.post<LoginResponse>(
    "/_matrix/client/v3/login",
    {
      type: "m.login.password",
      identifier: { type: "m.id.user", user: user.trim() },
      password,
      initial_device_display_name: DEVICE_NAME,
    },
    { noAuth: true },
  );
  return sessionFrom(baseUrl, body);
}

interface UiaFlows {
  session?: string;
  flows?: { stages: string[] }[];
  completed?: string[];
}

const SUPPORTED_STAGES = new Set(["m.login.dummy", "m.login.registration_token"]);

/**
 * Register an account (spec: "User-Interactive Authentication API"): the first POST
 * returns 401 with the flows; we pick the first flow made only of stages we can do
 * (m.login.dummy, and m.login.registration_token when a token is given) and complete
 * them one by one in the same session.
 */
export async function register(
  baseUrl: string,
  username: string,
  password: string,
  opts: { registrationToken?: string; fetchImpl?: FetchLike } = {},
): Promise<Session> {
  const http = new Http(baseUrl, null, opts.fetchImpl);
  const request: Record<string, unknown> = {
    username: localpartOf(username),
    password,
    initial_device_display_name: DEVICE_NAME,
  };
  let uia: UiaFlows;
  try {
    return sessionFrom(baseUrl, await http.post<LoginResponse>("/_matrix/client/v3/register", request, { noAuth: true }));
  } catch (err) {
    if (!(err instanceof MatrixError) || err.status !== 401 || !Array.isArray(err.body["flows"])) throw err;
    uia = err.body as UiaFlows;
  }
  const flow = (uia.flows ?? []).find((f) =>
    f.stages.every(
      (s) => SUPPORTED_STAGES.has(s) && (s !== "m.login.registration_token" || !!opts.registrationToken),
    ),
  );
  if (!flow) {
    const needsToken = (uia.flows ?? []).some((f) => f.stages.includes("m.login.registration_token"));
    throw new MatrixError(
      401,
      needsToken ? "CONCORD_NEEDS_TOKEN" : "M_REGISTRATION_DISABLED",
      needsToken ? "This server needs a registration token to sign up." : "This server doesn't allow new accounts.",
    );
  }
  const done = new Set(uia.completed ?? []);
  for (let i = 0; i < flow.stages.length + 1; i++) {
    const stage = flow.stages.find((s) => !done.has(s));
    if (stage === undefined) break;
    const auth: Record<string, unknown> = { type: stage, session: uia.session };
    if (stage === "m.login.registration_token") auth["token"] = opts.registrationToken;
    try {
      const body = await http.post<LoginResponse>("/_matrix/client/v3/register", { ...request, auth }, { noAuth: true });
      return sessionFrom(baseUrl, body);
    } catch (err) {
      if (!(err instanceof MatrixError) || err.status !== 401 || err.errcode === "M_FORBIDDEN") throw err;
      const next = err.body as UiaFlows;
      // spec: a 401 whose completed list did not grow means the stage failed.
      if (!(next.completed ?? []).includes(stage)) {
        throw new MatrixError(401, err.errcode, err.serverMessage || "Registration step failed", err.body);
      }
      next.completed?.forEach((s) => done.add(s));
      uia = next;
    }
  }
  throw new MatrixError(401, "M_UNKNOWN", "Registration did not complete.");
}

/** Who the token belongs to (spec: GET /account/whoami). */
export async function whoami(http: Http): Promise<{ user_id: string; device_id?: string }> {
  return http.get("/_matrix/client/v3/account/whoami");
}

/** Invalidate the token on the server; the session is forgotten locally even if that fails. */
export async function logout(http: Http, storage: Storage | null = defaultStorage()): Promise<void> {
  try {
    await http.post("/_matrix/client/v3/logout", {});
  } finally {
    clearSession(storage);
  }
}

/** Is a username free? (spec: GET /register/available). */
export async function usernameAvailable(baseUrl: string, username: string, fetchImpl?: FetchLike): Promise<boolean> {
  const body = await new Http(baseUrl, null, fetchImpl).get<{ available?: boolean }>(
    "/_matrix/client/v3/register/available",
    { username: localpartOf(username) },
    { noAuth: true },
  );
  return body.available === true;
}

export function defaultStorage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}

export function saveSession(session: Session, storage: Storage | null = defaultStorage()): void {
  storage?.setItem(SESSION_KEY, JSON.stringify(session));
}

export function loadSession(storage: Storage | null = defaultStorage()): Session | null {
  const raw = storage?.getItem(SESSION_KEY);
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as Partial<Session>;
    if (
      typeof value.baseUrl === "string" &&
      typeof value.userId === "string" &&
      typeof value.accessToken === "string" &&
      typeof value.deviceId === "string"
    ) {
      return value as Session;
    }
  } catch {
    // A corrupt entry is the same as none.
  }
  return null;
}

export function clearSession(storage: Storage | null = defaultStorage()): void {
  storage?.removeItem(SESSION_KEY);
}

/** The user's profile path segment helpers live here since login flows need them too. */
export function profilePath(userId: string, field?: string): string {
  return field ? path`/_matrix/client/v3/profile/${userId}/${field}` : path`/_matrix/client/v3/profile/${userId}`;
}
