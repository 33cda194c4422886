// The one place the client talks HTTP to a homeserver (spec: client-server API
// "API standards"). Every failure becomes a MatrixError with a plain-words message the
// UI can show as is; rate limits are waited out and retried; every call has a timeout.

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** A failed request: the spec's error body (errcode/error) plus the HTTP status. */
export class MatrixError extends Error {
  readonly status: number;
  readonly errcode: string;
  /** The server's own words (or ours, for network errors). */
  readonly serverMessage: string;
  /** The whole JSON body (UIA 401s carry flows/session; 429s retry_after_ms). */
  readonly body: Record<string, unknown>;

  constructor(status: number, errcode: string, serverMessage: string, body: Record<string, unknown> = {}) {
    super(plainWords(errcode, serverMessage, status));
    this.name = "MatrixError";
    this.status = status;
    this.errcode = errcode;
    this.serverMessage = serverMessage;
    this.body = body;
  }
}

// Our own errcodes for failures that never reached a server answer.
export const NETWORK_ERROR = "CONCORD_NETWORK";
export const TIMEOUT_ERROR = "CONCORD_TIMEOUT";
export const ABORTED_ERROR = "CONCORD_ABORTED";

const PLAIN: Record<string, string> = {
  M_FORBIDDEN: "You don't have permission to do that.",
  M_UNKNOWN_TOKEN: "Your session has ended. Please log in again.",
  M_MISSING_TOKEN: "You need to log in first.",
  M_USER_IN_USE: "That username is already taken.",
  M_INVALID_USERNAME: "That username isn't allowed. Use lowercase letters, digits and . _ = - /",
  M_WEAK_PASSWORD: "That password is too weak.",
  M_LIMIT_EXCEEDED: "You're doing that too often. Please wait a moment and try again.",
  M_NOT_FOUND: "That doesn't exist (any more).",
  M_TOO_LARGE: "That is too large for the server.",
  M_UNRECOGNIZED: "The server doesn't support that.",
  M_BAD_JSON: "The server refused the request as malformed.",
  M_NOT_JSON: "The server refused the request as malformed.",
  M_INVALID_PARAM: "Some of what you entered isn't valid.",
  M_ROOM_IN_USE: "That room address is already taken.",
  M_REGISTRATION_DISABLED: "This server doesn't allow new accounts.",
  M_USER_DEACTIVATED: "This account has been deactivated.",
  M_RESOURCE_LIMIT_EXCEEDED: "The server has reached a limit. Try again later.",
  M_UNAUTHORIZED: "You aren't allowed to do that.",
  M_CANNOT_LEAVE_SERVER_NOTICE_ROOM: "You can't leave this room.",
  [NETWORK_ERROR]: "Can't reach the server. Check your connection and try again.",
  [TIMEOUT_ERROR]: "The server took too long to answer. Please try again.",
  [ABORTED_ERROR]: "The request was cancelled.",
};

/** What to show a person for an error (the server's own words are kept in details). */
export function plainWords(errcode: string, serverMessage: string, status: number): string {
  if (errcode === "M_FORBIDDEN" && /password|credentials/i.test(serverMessage)) {
    return "Wrong username or password.";
  }
  // The server's words name the field at fault: more use than a generic sentence.
  if ((errcode === "M_INVALID_PARAM" || errcode === "M_BAD_JSON") && serverMessage) return serverMessage;
  const known = PLAIN[errcode];
  if (known) return known;
  if (status >= 500) return "The server had a problem. Please try again.";
  return serverMessage || `Something went wrong (${status}).`;
}

/** The message to show for any thrown value (MatrixError or not). */
export function errorMessage(err: unknown): string {
  if (err instanceof MatrixError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Abort and throw TIMEOUT_ERROR after this long (default 30 s). */
  timeoutMs?: number;
  /** How many times to wait out M_LIMIT_EXCEEDED before giving up (default 3). */
  rateLimitRetries?: number;
  /** Send without the access token (login, register, discovery). */
  noAuth?: boolean;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_RATE_LIMIT_WAIT_MS = 20_000;

export function encodeQuery(query: Query | undefined): string {
  if (!query) return "";
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

/** Encode each path segment given as a ${} argument: path`/rooms/${roomId}/state`. */
export function path(strings: TemplateStringsArray, ...values: string[]): string {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += encodeURIComponent(value) + (strings[i + 1] ?? "");
  });
  return out;
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new MatrixError(0, ABORTED_ERROR, "aborted"));
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(new MatrixError(0, ABORTED_ERROR, "aborted"));
    });
  });

export class Http {
  baseUrl: string;
  accessToken: string | null;
  private readonly fetchImpl: FetchLike;
  private readonly sleep: Sleep;
  /** Called once when the server says our token is no longer valid. */
  onUnknownToken: ((err: MatrixError) => void) | null = null;

  constructor(baseUrl: string, accessToken: string | null = null, fetchImpl?: FetchLike, sleep: Sleep = realSleep) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.accessToken = accessToken;
    this.fetchImpl = fetchImpl ?? ((input, init) => globalThis.fetch(input, init));
    this.sleep = sleep;
  }

  url(pathAndQuery: string): string {
    return this.baseUrl + pathAndQuery;
  }

  /** A client-server API call; `p` starts with /_matrix/... */
  async request<T = Record<string, unknown>>(method: string, p: string, opts: RequestOptions = {}): Promise<T> {
    const retries = opts.rateLimitRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(method, p, opts);
      } catch (err) {
        // spec: "Rate limiting": wait retry_after_ms (capped) and try again.
        if (err instanceof MatrixError && err.errcode === "M_LIMIT_EXCEEDED" && attempt < retries) {
          const after = Number(err.body["retry_after_ms"] ?? 1000);
          await this.sleep(Math.min(Math.max(after, 100), MAX_RATE_LIMIT_WAIT_MS), opts.signal);
          continue;
        }
        if (err instanceof MatrixError && err.errcode === "M_UNKNOWN_TOKEN" && !opts.noAuth) {
          this.onUnknownToken?.(err);
        }
        throw err;
      }
    }
  }

  get<T = Record<string, unknown>>(p: string, query?: Query, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>("GET", p, { ...opts, query });
  }

  post<T = Record<string, unknown>>(p: string, body: unknown = {}, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>("POST", p, { ...opts, body });
  }

  put<T = Record<string, unknown>>(p: string, body: unknown = {}, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>("PUT", p, { ...opts, body });
  }

  delete<T = Record<string, unknown>>(p: string, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>("DELETE", p, opts);
  }

  private async once<T>(method: string, p: string, opts: RequestOptions): Promise<T> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const onOuterAbort = () => controller.abort();
    opts.signal?.addEventListener("abort", onOuterAbort);
    const headers: Record<string, string> = {};
    if (this.accessToken && !opts.noAuth) headers["Authorization"] = `Bearer ${this.accessToken}`;
    let body: string | undefined;
    if (opts.body !== undefined && method !== "GET") {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    let response: Response;
    try {
      response = await this.fetchImpl(this.url(p + encodeQuery(opts.query)), {
        method,
        headers,
        body,
        signal: controller.signal,
      });
    } catch (err) {
      if (timedOut) throw new MatrixError(0, TIMEOUT_ERROR, "request timed out");
      if (opts.signal?.aborted) throw new MatrixError(0, ABORTED_ERROR, "aborted");
      throw new MatrixError(0, NETWORK_ERROR, errorMessage(err));
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onOuterAbort);
    }
    return parseResponse<T>(response);
  }
}

/** Turn a response into its JSON body or a MatrixError (spec: "Standard error response"). */
export async function parseResponse<T>(response: Response): Promise<T> {
  let text = "";
  try {
    text = await response.text();
  } catch {
    text = "";
  }
  let json: unknown = undefined;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  if (response.ok) {
    return (json ?? {}) as T;
  }
  const body = json && typeof json === "object" ? (json as Record<string, unknown>) : {};
  const errcode = typeof body["errcode"] === "string" ? body["errcode"] : response.status === 404 ? "M_UNRECOGNIZED" : "M_UNKNOWN";
  const message = typeof body["error"] === "string" ? body["error"] : response.statusText;
  throw new MatrixError(response.status, errcode, message, body);
}
