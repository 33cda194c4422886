/**
 * Presence of users the sync has not told us about yet. A server sends presence changes
 * as they happen; someone who went online before we shared a room with them may not
 * appear in our sync until they change again. For those, web/src/matrix's
 * fetchPresence (GET /presence/{userId}/status) once per session; it writes the store.
 */

import { fetchPresence, type MatrixClient } from "../../matrix";

const asked = new WeakMap<MatrixClient, Set<string>>();

export function askPresence(client: MatrixClient, known: Record<string, unknown>, userIds: readonly string[]): void {
  let seen = asked.get(client);
  if (!seen) asked.set(client, (seen = new Set()));
  for (const userId of userIds) {
    if (userId in known || seen.has(userId)) continue;
    seen.add(userId);
    fetchPresence(client, userId).catch(() => undefined); // not allowed to see it: grey
  }
}
