/**
 * Presence of users the sync has not told us about yet. A server sends presence changes
 * as they happen; someone who went online before we shared a room with them may never
 * appear in our sync until they change again. For those, GET /presence/{userId}/status
 * (spec: client-server "Presence") once; the sync's own events always win.
 */

import { signal } from "@preact/signals";

import type { HttpLike } from "./actions";

export const fetchedPresence = signal<Record<string, { presence: string }>>({});
const asked = new Set<string>();

export function askPresence(http: HttpLike, known: Record<string, unknown>, userIds: readonly string[]): void {
  for (const userId of userIds) {
    if (userId in known || asked.has(userId)) continue;
    asked.add(userId);
    http.get<{ presence?: unknown }>(`/_matrix/client/v3/presence/${encodeURIComponent(userId)}/status`).then(
      (body) => {
        if (typeof body.presence === "string") {
          fetchedPresence.value = { ...fetchedPresence.value, [userId]: { presence: body.presence } };
        }
      },
      () => undefined, // not allowed to see it: they stay grey
    );
  }
}
