/**
 * Grouping of consecutive messages, as Discord shows them: a message by the same author
 * within a few minutes of the previous one continues its group (no repeated name and
 * avatar). A reply always starts a new group so that its quote sits under a header.
 */
import type { MessageItem } from "../channelModel";

export const GROUP_WINDOW_MS = 7 * 60 * 1000;

export interface GroupedMessage {
  item: MessageItem;
  /** True when the message starts a group (shows author, avatar and time). */
  head: boolean;
  /** True when a date separator goes above (first message of a calendar day). */
  newDay: boolean;
}

function dayOf(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

export function groupMessages(items: readonly MessageItem[]): GroupedMessage[] {
  const out: GroupedMessage[] = [];
  let previous: MessageItem | undefined;
  for (const item of items) {
    const newDay = previous === undefined || dayOf(previous.ts) !== dayOf(item.ts);
    const head =
      previous === undefined ||
      newDay ||
      previous.sender !== item.sender ||
      item.replyTo !== undefined ||
      item.ts - previous.ts > GROUP_WINDOW_MS ||
      item.ts < previous.ts;
    out.push({ item, head, newDay });
    previous = item;
  }
  return out;
}
