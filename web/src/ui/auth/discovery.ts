/**
 * Which homeserver to talk to, from what the user typed in the login form.
 *
 * spec: client-server "Server Discovery" / "Well-known URIs": a server name is looked
 * up at `https://<name>/.well-known/matrix/client` for `m.homeserver.base_url`; a full
 * URL is used as it is. A user id typed as the username (`@alice:example.org`) names the
 * server too. An empty field means the server that serves this page.
 */

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** The server part of a full user id, or null. */
export function serverOfUserId(username: string): string | null {
  const m = /^@[^:]+:(.+)$/.exec(username.trim());
  return m ? m[1]! : null;
}

/** The localpart to send with m.id.user when a full id was typed. */
export function localpartOf(username: string): string {
  const m = /^@([^:]+):/.exec(username.trim());
  return m ? m[1]! : username.trim();
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

export class DiscoveryError extends Error {}

export async function discoverHomeserver(typed: string, pageOrigin: string, fetcher: Fetch): Promise<string> {
  const value = typed.trim();
  if (value === "") return trimSlash(pageOrigin);
  if (/^https?:\/\//i.test(value)) {
    try {
      return trimSlash(new URL(value).toString());
    } catch {
      throw new DiscoveryError(`"${value}" is not a valid address.`);
    }
  }
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(value)) {
    throw new DiscoveryError(`"${value}" is not a server name or an address.`);
  }
  let response: Response;
  try {
    response = await fetcher(`https://${value}/.well-known/matrix/client`);
  } catch {
    // No well-known (or unreachable): the spec says to try the name itself.
    return `https://${value}`;
  }
  if (response.status === 404) return `https://${value}`;
  if (!response.ok) throw new DiscoveryError(`The server ${value} could not be found (HTTP ${response.status}).`);
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new DiscoveryError(`The server ${value} published an unreadable address.`);
  }
  const base = (body as { "m.homeserver"?: { base_url?: unknown } })?.["m.homeserver"]?.base_url;
  if (typeof base !== "string" || !/^https?:\/\//i.test(base)) {
    throw new DiscoveryError(`The server ${value} did not publish a homeserver address.`);
  }
  return trimSlash(base);
}
