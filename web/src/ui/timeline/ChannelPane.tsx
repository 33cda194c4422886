/**
 * The channel view itself, given its model and actions: header, message list, typing
 * indicator, composer, uploads (button or drag-and-drop onto the channel, with
 * progress) and errors in plain words. ChannelView.tsx wires it to the client; the
 * shell draws the channel header (name, description) above it.
 */
import { useState } from "preact/hooks";

import type { ChannelActions, ChannelModel, MessageItem } from "./channelModel";
import { Composer } from "./Composer";
import { MessageList } from "./MessageList";
import { TypingIndicator } from "./TypingIndicator";

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function ChannelPane({ model, actions }: { model: ChannelModel; actions: ChannelActions }) {
  const [replyTo, setReplyTo] = useState<MessageItem | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  // The text of an edit the server refused, offered again in the edit box (not lost).
  const [editDraft, setEditDraft] = useState<string | null>(null);
  const [errors, setErrors] = useState<string[]>([]);
  const [dragging, setDragging] = useState(false);
  // Bumped on each send: the list jumps to the present, as after sending in Discord.
  const [sent, setSent] = useState(0);

  const showError = (message: string) => setErrors((es) => [...es.slice(-2), message]);

  const uploadFiles = (files: File[]) => {
    if (model.readOnlyReason) {
      showError(model.readOnlyReason);
      return;
    }
    // Each file becomes a local echo with its upload progress; a failure stays on it
    // with Retry (which uploads again).
    for (const file of files) actions.sendFile(file);
    setSent((n) => n + 1);
  };

  const saveEdit = (item: MessageItem, body: string) => {
    setEditing(null);
    const trimmed = body.trim();
    if (!trimmed || trimmed === item.body) return;
    setEditDraft(null);
    actions.edit(item, trimmed).catch((e: unknown) => {
      showError(`Could not edit the message: ${errorText(e)}`);
      setEditDraft(trimmed);
      setEditing(item.id);
    });
  };

  const editLast = () => {
    const last = [...model.items].reverse().find((i) => i.sender === model.me && !i.pending && typeof i.content["url"] !== "string");
    if (last) setEditing(last.id);
  };

  const hasFiles = (e: DragEvent) => [...(e.dataTransfer?.types ?? [])].includes("Files");

  return (
    <section
      class="tl-channel"
      aria-label={`Channel ${model.name}`}
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        setDragging(false);
        uploadFiles([...(e.dataTransfer?.files ?? [])]);
      }}
    >
      <MessageList
        model={model}
        actions={actions}
        editing={editing}
        editDraft={editDraft}
        sent={sent}
        onReply={(item) => {
          setEditing(null);
          setReplyTo(item);
        }}
        onEdit={(item) => {
          setEditDraft(null);
          setEditing(item ? item.id : null);
        }}
        onSaveEdit={saveEdit}
        onError={showError}
      />
      {errors.length > 0 && (
        <div class="tl-errors" role="alert">
          {errors.map((e, i) => (
            <p key={i}>{e}</p>
          ))}
          <button type="button" onClick={() => setErrors([])}>
            Dismiss
          </button>
        </div>
      )}
      <Composer
        model={model}
        replyTo={replyTo}
        onCancelReply={() => setReplyTo(null)}
        onSend={(draft) => {
          actions.send(draft);
          setReplyTo(null);
          setSent((n) => n + 1);
        }}
        onEditLast={editLast}
        onFiles={uploadFiles}
        onTyping={(active) => actions.typing(active)}
      />
      <TypingIndicator model={model} />
      {dragging && (
        <div class="tl-dropzone" aria-hidden="true">
          Drop files to upload them to #{model.name}
        </div>
      )}
    </section>
  );
}
