// A fetch double for unit tests: routes "METHOD /path" to handlers and records calls.
// (The real server is exercised by the Playwright tests; this is the edge of the machine.)

import type { FetchLike } from "../../src/matrix/http";

export interface Call {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

export type Handler = (call: Call) => { status?: number; json?: unknown } | Promise<{ status?: number; json?: unknown }>;

export class FakeServer {
  calls: Call[] = [];
  private routes: [string | RegExp, Handler][] = [];

  /** "GET /path" (any host), "GET https://host/path", or a RegExp over "GET https://host/path". */
  on(route: string | RegExp, handler: Handler): this {
    this.routes.push([route, handler]);
    return this;
  }

  readonly fetch: FetchLike = async (input, init) => {
    const url = new URL(input);
    const call: Call = {
      method: init?.method ?? "GET",
      url: input,
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
    };
    this.calls.push(call);
    const full = `${call.method} ${url.origin}${call.path}`;
    const short = `${call.method} ${call.path}`;
    for (const [route, handler] of this.routes) {
      const matches = typeof route === "string" ? route === full || route === short : route.test(full);
      if (matches) {
        const { status = 200, json = {} } = await handler(call);
        return new Response(JSON.stringify(json), { status, headers: { "Content-Type": "application/json" } });
      }
    }
    return new Response(JSON.stringify({ errcode: "M_UNRECOGNIZED", error: "no route" }), { status: 404 });
  };

  callsTo(fragment: string): Call[] {
    return this.calls.filter((c) => `${c.method} ${c.path}`.includes(fragment));
  }
}
