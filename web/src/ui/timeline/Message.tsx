/**
 * One message row: avatar, author (role colour) and time at the head of a group, the
 * quoted message it replies to, its body, "(edited)", reactions, and a hover toolbar
 * (react, reply, edit own, delete own or — with the power to redact — anyone's).
 * Local echoes show "Sending…" or the failure with Retry (nothing typed is lost).
 */
import { useEffect, useRef, useState } from "preact/hooks";

import { StatusDot } from "../common/Avatar";
import type { ChannelActions, ChannelModel, MessageItem, Person } from "./channelModel";
import { MessageBody, TextBody } from "./MessageBody";
import { EditIcon, ReplyIcon, SmileIcon, TrashIcon } from "../common/icons";
import { EmojiPicker, ReactionChips } from "./Reactions";

/** The author's picture (or initial); `withStatus`: with the shared status dot, as
 * everywhere a user appears (Online green, Away orange, Busy red, Offline grey). */
export function Avatar({ person, size = 40, withStatus = false }: { person: Person; size?: number; withStatus?: boolean }) {
  const letter = (person.name.replace(/^@/, "")[0] ?? "?").toUpperCase();
  const picture = person.avatar ? (
    <img class="tl-avatar" src={person.avatar} alt="" width={size} height={size} />
  ) : (
    <span class="tl-avatar tl-avatar-letter" aria-hidden="true" style={{ width: size, height: size }}>
      {letter}
    </span>
  );
  if (!withStatus || !person.status) return picture;
  return (
    <span class="avatar tl-avatar-status" style={{ width: `${size}px`, height: `${size}px` }}>
      {picture}
      <StatusDot status={person.status} />
    </span>
  );
}

function time(ts: number): string {
  return new Date(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function fullTime(ts: number): string {
  return new Date(ts).toLocaleString();
}

function ReplyQuote({ model, target }: { model: ChannelModel; target: string }) {
  const original = model.byId.get(target);
  if (!original) {
    const why = model.deleted.has(target) ? "Original message was deleted" : "Replying to a message that is not loaded";
    return <div class="tl-quote tl-quote-missing">{why}</div>;
  }
  const author = model.person(original.sender);
  const isFile = typeof original.content["url"] === "string";
  return (
    <div class="tl-quote" aria-label={`Reply to ${author.name}`}>
      <Avatar person={author} size={16} />
      <span class="tl-quote-author" style={author.color ? { color: author.color } : undefined}>
        @{author.name}
      </span>
      <span class="tl-quote-body">
        {isFile ? original.body : <TextBody model={model} content={original.content} body={original.body} />}
      </span>
    </div>
  );
}

export interface MessageProps {
  model: ChannelModel;
  actions: ChannelActions;
  item: MessageItem;
  head: boolean;
  editing: boolean;
  /** Text to start the edit box with (a refused edit), else the message's body. */
  editDraft: string | null;
  onReply: (item: MessageItem) => void;
  onEdit: (item: MessageItem | null) => void;
  onSaveEdit: (item: MessageItem, body: string) => void;
  onError: (message: string) => void;
}

function EditBox({ initial, onSave, onCancel }: { initial: string; onSave: (body: string) => void; onCancel: () => void }) {
  const [text, setText] = useState(initial);
  const box = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    el.focus({ preventScroll: true });
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);
  return (
    <div class="tl-edit">
      <textarea
        aria-label="Edit message"
        value={text}
        ref={box}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey) {
            e.preventDefault();
            onSave(text);
          } else if (e.key === "Escape") {
            onCancel();
          }
        }}
      />
      <div class="tl-edit-hint">
        Escape to <button type="button" class="tl-linkbtn" onClick={onCancel}>cancel</button> • Enter to{" "}
        <button type="button" class="tl-linkbtn" onClick={() => onSave(text)}>save</button>
      </div>
    </div>
  );
}

function ConfirmDelete({ onConfirm, onCancel, up }: { onConfirm: () => void; onCancel: () => void; up: boolean }) {
  const confirm = useRef<HTMLButtonElement>(null);
  useEffect(() => confirm.current?.focus({ preventScroll: true }), []);
  return (
    <div class={up ? "tl-confirm tl-pop-up" : "tl-confirm"} role="alertdialog" aria-label="Delete message">
      <p>Delete this message? This cannot be undone.</p>
      <button type="button" class="tl-danger" onClick={onConfirm} ref={confirm}>
        Delete
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}

export function Message(props: MessageProps) {
  const { model, actions, item, head } = props;
  const [picking, setPicking] = useState(false);
  const [confirming, setConfirming] = useState(false);
  // Pop-ups open upwards for messages in the lower half, so they stay on screen.
  const [up, setUp] = useState(false);
  const row = useRef<HTMLElement>(null);
  const popUp = (open: (v: boolean) => void) => {
    const rect = row.current?.getBoundingClientRect();
    setUp(rect !== undefined && rect.top > window.innerHeight / 2);
    open(true);
  };
  const author = model.person(item.sender);
  const mine = item.sender === model.me;
  const local = item.pending !== undefined;
  const highlighted = item.mentionsMe;
  const canDelete = !local && (mine || model.abilities.redactOthers);
  const canEdit = !local && mine && model.abilities.write && typeof item.content["url"] !== "string";
  const classes = ["tl-msg", head ? "tl-head" : "tl-cont", highlighted ? "tl-highlight" : "", local ? `tl-${item.pending}` : ""];

  const react = (key: string) => {
    actions.react(item.id, key).catch((e: unknown) => props.onError(`Could not add the reaction: ${String((e as Error).message ?? e)}`));
  };
  const toggle = (chip: { key: string; mine?: string }) => {
    const done = chip.mine ? actions.redact(chip.mine) : actions.react(item.id, chip.key);
    done.catch((e: unknown) => props.onError(`Could not change the reaction: ${String((e as Error).message ?? e)}`));
  };
  const remove = () => {
    setConfirming(false);
    actions.redact(item.id).catch((e: unknown) => props.onError(`Could not delete the message: ${String((e as Error).message ?? e)}`));
  };

  return (
    <article ref={row} class={classes.join(" ")} data-testid="message" data-event-id={local ? undefined : item.id} aria-label={`Message from ${author.name}`}>
      {item.replyTo && <ReplyQuote model={model} target={item.replyTo} />}
      <div class="tl-row">
        <div class="tl-gutter">
          {head || item.replyTo ? <Avatar person={author} withStatus /> : <time class="tl-hover-time" title={fullTime(item.ts)}>{time(item.ts)}</time>}
        </div>
        <div class="tl-main">
          {(head || item.replyTo) && (
            <div class="tl-meta">
              <span class="tl-author" style={author.color ? { color: author.color } : undefined}>
                {author.name}
              </span>
              <time class="tl-time" dateTime={new Date(item.ts).toISOString()} title={fullTime(item.ts)}>
                {time(item.ts)}
              </time>
            </div>
          )}
          {props.editing ? (
            <EditBox initial={props.editDraft ?? item.body} onSave={(body) => props.onSaveEdit(item, body)} onCancel={() => props.onEdit(null)} />
          ) : (
            <div class="tl-body">
              <MessageBody model={model} actions={actions} content={item.content} body={item.body} />
              {item.edited && <span class="tl-edited"> (edited)</span>}
            </div>
          )}
          {item.upload !== undefined && item.pending === "sending" && (
            <progress class="tl-progress" aria-label={`Uploading ${item.body}`} max={1} value={item.upload} />
          )}
          {item.pending === "sending" && item.upload === undefined && <div class="tl-status">Sending…</div>}
          {item.pending === "failed" && item.txnId && (
            <div class="tl-status tl-failed" role="alert">
              Not sent{item.failure ? `: ${item.failure}` : "."}{" "}
              <button type="button" onClick={() => actions.retry(item.txnId!)}>
                Retry
              </button>{" "}
              <button type="button" onClick={() => actions.discard(item.txnId!)}>
                Discard
              </button>
            </div>
          )}
          <ReactionChips model={model} chips={item.reactions} onToggle={toggle} />
        </div>
      </div>
      {!local && !props.editing && (
        <div class="tl-toolbar" role="toolbar" aria-label="Message actions">
          {model.abilities.react && (
            <button type="button" aria-label="Add reaction" title="Add reaction" onClick={() => popUp(setPicking)}>
              <SmileIcon />
            </button>
          )}
          {model.abilities.write && (
            <button type="button" aria-label="Reply" title="Reply" onClick={() => props.onReply(item)}>
              <ReplyIcon />
            </button>
          )}
          {canEdit && (
            <button type="button" aria-label="Edit" title="Edit" onClick={() => props.onEdit(item)}>
              <EditIcon />
            </button>
          )}
          {canDelete && (
            <button type="button" aria-label="Delete" title="Delete" class="tl-danger" onClick={() => popUp(setConfirming)}>
              <TrashIcon />
            </button>
          )}
        </div>
      )}
      {picking && <EmojiPicker up={up} onPick={react} onClose={() => setPicking(false)} />}
      {confirming && <ConfirmDelete up={up} onConfirm={remove} onCancel={() => setConfirming(false)} />}
    </article>
  );
}
