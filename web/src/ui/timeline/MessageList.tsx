/**
 * The scrolling message list: loads older messages when scrolled to the top and keeps
 * what was on screen in place, sticks to the bottom while there, offers "Jump to
 * present" otherwise, and sends a read receipt for the newest message once it is seen
 * (spec: client-server "Receipts").
 */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

import type { ChannelActions, ChannelModel, MessageItem } from "./channelModel";
import { Message } from "./Message";
import { groupMessages } from "./model/grouping";

const TOP_THRESHOLD_PX = 150;
const BOTTOM_THRESHOLD_PX = 40;
/** Fill an empty screen with history, but only so many pages without the user scrolling. */
const MAX_AUTO_PAGES = 5;

export interface MessageListProps {
  model: ChannelModel;
  actions: ChannelActions;
  editing: string | null;
  editDraft: string | null;
  /** Changes on each send of mine: jump to the present. */
  sent: number;
  onReply: (item: MessageItem) => void;
  onEdit: (item: MessageItem | null) => void;
  onSaveEdit: (item: MessageItem, body: string) => void;
  onError: (message: string) => void;
}

function dayLabel(ts: number): string {
  return new Date(ts).toLocaleDateString([], { year: "numeric", month: "long", day: "numeric" });
}

export function MessageList(props: MessageListProps) {
  const { model, actions } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const [showJump, setShowJump] = useState(false);
  const [loading, setLoading] = useState(false);
  const anchor = useRef<{ height: number; top: number } | null>(null);
  const autoPages = useRef(0);
  const lastRead = useRef<string | null>(null);

  const groups = groupMessages(model.items);
  const firstId = model.items[0]?.id;
  const lastId = model.items[model.items.length - 1]?.id;

  const loadOlder = () => {
    const el = scroller.current;
    if (!el || loading || !model.canPaginate) return;
    anchor.current = { height: el.scrollHeight, top: el.scrollTop };
    setLoading(true);
    actions
      .paginate()
      .catch((e: unknown) => props.onError(`Could not load older messages: ${String((e as Error).message ?? e)}`))
      .finally(() => setLoading(false));
  };

  // Keep the view still when older messages are prepended; follow new ones at the bottom.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (anchor.current) {
      el.scrollTop = anchor.current.top + (el.scrollHeight - anchor.current.height);
      anchor.current = null;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [firstId, lastId, model.items.length]);

  useEffect(() => {
    if (props.sent > 0) jump();
  }, [props.sent]);

  // An initial screen that does not overflow shows no scrollbar to pull on: fill it.
  useEffect(() => {
    const el = scroller.current;
    if (!el || loading || !model.canPaginate || autoPages.current >= MAX_AUTO_PAGES) return;
    if (el.scrollHeight <= el.clientHeight + TOP_THRESHOLD_PX) {
      autoPages.current += 1;
      loadOlder();
    }
  }, [firstId, loading, model.canPaginate]);

  // Coming back to a hidden tab counts as reading what arrived meanwhile.
  const [visible, setVisible] = useState(0);
  useEffect(() => {
    const onVisible = () => document.visibilityState === "visible" && setVisible((n) => n + 1);
    document.addEventListener("visibilitychange", onVisible);
    return () => document.removeEventListener("visibilitychange", onVisible);
  }, []);

  // Read receipts: the newest server-confirmed message, once I am at the bottom and the
  // page is visible.
  useEffect(() => {
    const newest = [...model.items].reverse().find((i) => i.pending === undefined);
    if (!newest || !atBottom.current || document.visibilityState === "hidden") return;
    if (lastRead.current === newest.id || newest.sender === model.me) return;
    lastRead.current = newest.id;
    actions.markRead(newest.id);
  }, [lastId, showJump, visible]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_THRESHOLD_PX;
    atBottom.current = bottom;
    setShowJump(!bottom);
    if (el.scrollTop < TOP_THRESHOLD_PX) loadOlder();
  };

  const jump = () => {
    const el = scroller.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setShowJump(false);
  };

  return (
    <div class="tl-list-wrap">
      <div class="tl-list" ref={scroller} onScroll={onScroll} role="log" aria-label={`Messages in ${model.name}`}>
        {model.canPaginate ? (
          <div class="tl-loading" aria-live="polite">
            {loading ? "Loading older messages…" : ""}
          </div>
        ) : (
          <div class="tl-start">
            {model.isDm ? (
              <>
                <h2>{model.name}</h2>
                <p>This is the beginning of your direct message history with {model.name}.</p>
              </>
            ) : (
              <>
                <h2>Welcome to {model.name}!</h2>
                <p>This is the start of the channel.</p>
              </>
            )}
          </div>
        )}
        {groups.map(({ item, head, newDay }) => (
          <div key={item.txnId ?? item.id}>
            {newDay && (
              <div class="tl-day" role="separator">
                <span>{dayLabel(item.ts)}</span>
              </div>
            )}
            <Message
              model={model}
              actions={actions}
              item={item}
              head={head}
              editing={props.editing === item.id}
              editDraft={props.editDraft}
              onReply={props.onReply}
              onEdit={props.onEdit}
              onSaveEdit={props.onSaveEdit}
              onError={props.onError}
            />
          </div>
        ))}
      </div>
      {showJump && (
        <button type="button" class="tl-jump" onClick={jump}>
          Jump to present ↓
        </button>
      )}
    </div>
  );
}
