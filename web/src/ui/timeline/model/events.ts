/**
 * The raw Matrix event shape the channel view reads (spec: client-server "Room Events").
 * Kept structural so any store holding /sync and /messages events can feed the view.
 */
export interface MatrixEvent {
  event_id: string;
  type: string;
  sender: string;
  origin_server_ts: number;
  content: Record<string, unknown>;
  state_key?: string;
  redacts?: string;
  unsigned?: {
    transaction_id?: string;
    redacted_because?: unknown;
    [key: string]: unknown;
  };
}

/** Current room state: the event of (`type`, `state_key`), if any. */
export type StateLookup = (type: string, stateKey: string) => MatrixEvent | undefined;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `m.relates_to` of an event's content, if it is an object. */
export function relatesTo(content: Record<string, unknown>): Record<string, unknown> | undefined {
  const rel = content["m.relates_to"];
  return isObject(rel) ? rel : undefined;
}

/** The event a redaction removes: `content.redacts` from room v11 on, top-level before. */
export function redactedId(event: MatrixEvent): string | undefined {
  const inContent = event.content["redacts"];
  if (typeof inContent === "string") return inContent;
  return typeof event.redacts === "string" ? event.redacts : undefined;
}

export function localpart(userId: string): string {
  const colon = userId.indexOf(":");
  return userId.slice(1, colon < 0 ? undefined : colon);
}
