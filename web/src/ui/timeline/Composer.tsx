/**
 * The message box: Enter sends, Shift+Enter adds a line, ↑ in an empty box edits my last
 * message, `@` opens autocomplete for members and roles, a reply shows its quoted preview
 * above, files attach by button. Typing notifications are sent while typing (spec:
 * client-server "Typing Notifications": a timeout, renewed while typing continues).
 * When I may not write, the box says so and is disabled.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";

import type { ChannelModel, Draft, MessageItem } from "./channelModel";
import { PlusIcon } from "../common/icons";
import { applyCandidate, type Candidate, matchCandidates, mentionQuery, pickedMentions } from "./model/autocomplete";

const TYPING_RENEW_MS = 4000;

/** Unsent text per room, kept while the user visits other channels (this session). */
const drafts = new Map<string, string>();

export interface ComposerProps {
  model: ChannelModel;
  replyTo: MessageItem | null;
  onCancelReply: () => void;
  onSend: (draft: Draft) => void;
  onEditLast: () => void;
  onFiles: (files: File[]) => void;
  onTyping: (active: boolean) => void;
}

export function Composer(props: ComposerProps) {
  const { model } = props;
  const [text, setTextState] = useState(() => drafts.get(model.roomId) ?? "");
  const setText = (value: string) => {
    if (value) drafts.set(model.roomId, value);
    else drafts.delete(model.roomId);
    setTextState(value);
  };
  const [caret, setCaret] = useState(0);
  const [picked, setPicked] = useState<Candidate[]>([]);
  const [selected, setSelected] = useState(0);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const file = useRef<HTMLInputElement>(null);
  const lastTyping = useRef(0);
  // Where the caret goes after an autocomplete pick, applied right after that render
  // (before any further key press can land at the old position).
  const pendingCaret = useRef<number | null>(null);
  useLayoutEffect(() => {
    // Grow with the text (Shift+Enter lines), up to the CSS max-height.
    const el = area.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${el.scrollHeight}px`;
  }, [text]);
  useLayoutEffect(() => {
    const el = area.current;
    if (el && pendingCaret.current !== null) {
      el.focus({ preventScroll: true });
      el.setSelectionRange(pendingCaret.current, pendingCaret.current);
      pendingCaret.current = null;
    }
  });

  const query = mentionQuery(text, caret);
  const candidates = useMemo(
    () => (query && dismissed !== query.start ? matchCandidates(query.query, model.members.filter((m) => m.id !== model.me), model.mentionableRoles) : []),
    [query?.query, query?.start, dismissed, model.members, model.mentionableRoles],
  );
  const open = candidates.length > 0;

  useEffect(() => {
    if (props.replyTo) area.current?.focus({ preventScroll: true });
  }, [props.replyTo]);

  const disabled = model.readOnlyReason !== undefined;

  const stopTyping = () => {
    if (lastTyping.current) props.onTyping(false);
    lastTyping.current = 0;
  };

  const choose = (c: Candidate) => {
    if (!query) return;
    const next = applyCandidate(text, query, c);
    setText(next.text);
    setCaret(next.caret);
    setPicked((p) => [...p, c]);
    pendingCaret.current = next.caret;
  };

  const send = () => {
    const body = text.trim();
    if (!body) return;
    const draft: Draft = { body, ...pickedMentions(body, picked) };
    const pills = picked.filter((c) => c.kind === "user" && body.includes(`@${c.label}`));
    if (pills.length) draft.pills = pills.map((c) => ({ label: c.label, userId: c.id }));
    // The content builder mentions the replied-to sender (spec: "Rich replies").
    if (props.replyTo) draft.replyTo = { eventId: props.replyTo.id, sender: props.replyTo.sender };
    props.onSend(draft);
    setText("");
    setCaret(0);
    setPicked([]);
    stopTyping();
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (open) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const step = e.key === "ArrowDown" ? 1 : candidates.length - 1;
        setSelected((s) => (s + step) % candidates.length);
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        choose(candidates[Math.min(selected, candidates.length - 1)]!);
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        setDismissed(query!.start);
        return;
      }
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    } else if (e.key === "ArrowUp" && text === "") {
      e.preventDefault();
      props.onEditLast();
    } else if (e.key === "Escape" && props.replyTo) {
      props.onCancelReply();
    }
  };

  const onInput = (e: Event) => {
    const el = e.currentTarget as HTMLTextAreaElement;
    setText(el.value);
    setCaret(el.selectionStart ?? el.value.length);
    setSelected(0);
    const now = Date.now();
    if (el.value === "") stopTyping();
    else if (now - lastTyping.current > TYPING_RENEW_MS) {
      lastTyping.current = now;
      props.onTyping(true);
    }
  };

  const replyAuthor = props.replyTo ? model.person(props.replyTo.sender) : null;
  const placeholder = disabled ? model.readOnlyReason : `Message ${model.isDm ? "@" : "#"}${model.name}`;

  return (
    <div class="tl-composer">
      {open && (
        <ul class="tl-autocomplete" role="listbox" aria-label="Mention suggestions">
          {candidates.map((c, i) => (
            <li
              key={`${c.kind}:${c.id}`}
              role="option"
              aria-selected={i === selected}
              class={i === selected ? "tl-ac-item tl-ac-selected" : "tl-ac-item"}
              onMouseDown={(e) => {
                e.preventDefault();
                choose(c);
              }}
            >
              <span style={c.color ? { color: c.color } : undefined}>@{c.label}</span>
              <span class="tl-ac-detail">{c.kind === "role" ? "role" : c.detail}</span>
            </li>
          ))}
        </ul>
      )}
      {props.replyTo && replyAuthor && (
        <div class="tl-replying">
          Replying to <strong style={replyAuthor.color ? { color: replyAuthor.color } : undefined}>{replyAuthor.name}</strong>
          <span class="tl-replying-body">{props.replyTo.body.slice(0, 120)}</span>
          <button type="button" aria-label="Cancel reply" onClick={props.onCancelReply}>
            ✕
          </button>
        </div>
      )}
      <div class={disabled ? "tl-inputrow tl-disabled" : "tl-inputrow"}>
        <button type="button" class="tl-attach" aria-label="Attach a file" disabled={disabled} onClick={() => file.current?.click()}>
          <PlusIcon />
        </button>
        <input
          ref={file}
          type="file"
          multiple
          hidden
          aria-label="Upload a file"
          onChange={(e) => {
            const files = [...(e.currentTarget.files ?? [])];
            e.currentTarget.value = "";
            if (files.length) props.onFiles(files);
          }}
        />
        <textarea
          ref={area}
          rows={1}
          aria-label={disabled ? "Message (read only)" : "Message"}
          placeholder={placeholder}
          disabled={disabled}
          value={text}
          onInput={onInput}
          onKeyDown={onKeyDown}
          onClick={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
          onKeyUp={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
          onPaste={(e) => {
            // A pasted image (a screenshot) is an attachment, as in Discord.
            const files = [...(e.clipboardData?.files ?? [])];
            if (files.length === 0) return;
            e.preventDefault();
            props.onFiles(files);
          }}
          onBlur={stopTyping}
        />
      </div>
    </div>
  );
}
