/**
 * The channel view itself, given its model and actions: header, message list, typing
 * indicator, composer, uploads (button or drag-and-drop onto the channel, with
 * progress) and errors in plain words. ChannelView.tsx wires it to the client; the
 * shell draws the channel header (name, description) above it.
 */
import { useState } from "preact/hooks";

import type { ChannelActions, ChannelModel } from "./channelModel";
import { Composer } from "./Composer";
import { MessageList } from "./MessageList";
import type { MessageItem } from "./model/aggregate";
import { isObject } from "./model/events";
import { TypingIndicator } from "./TypingIndicator";
import { fileContent, imageSize } from "./upload";

interface Upload {
  id: number;
  name: string;
  progress: number;
}

let uploadSeq = 0;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The content of an edit (spec: client-server "Event replacements"). */
export function editContent(item: MessageItem, body: string): Record<string, unknown> {
  const newContent: Record<string, unknown> = { msgtype: item.content["msgtype"] ?? "m.text", body };
  const mentions = item.content["m.mentions"];
  newContent["m.mentions"] = isObject(mentions) ? mentions : {};
  if (Array.isArray(item.content["im.concord.role_mentions"])) {
    newContent["im.concord.role_mentions"] = item.content["im.concord.role_mentions"];
  }
  return {
    msgtype: newContent["msgtype"],
    body: `* ${body}`,
    "m.mentions": {},
    "m.new_content": newContent,
    "m.relates_to": { rel_type: "m.replace", event_id: item.id },
  };
}

export function ChannelPane({ model, actions }: { model: ChannelModel; actions: ChannelActions }) {
  const [replyTo, setReplyTo] = useState<MessageItem | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [uploads, setUploads] = useState<Upload[]>([]);
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
    for (const file of files) {
      const id = ++uploadSeq;
      setUploads((us) => [...us, { id, name: file.name, progress: 0 }]);
      const setProgress = (progress: number) =>
        setUploads((us) => us.map((u) => (u.id === id ? { ...u, progress } : u)));
      Promise.all([actions.upload(file, setProgress), imageSize(file)])
        .then(([mxc, size]) => {
          actions.send(fileContent(file, mxc, size));
          setSent((n) => n + 1);
        })
        .catch((e: unknown) => showError(errorText(e)))
        .finally(() => setUploads((us) => us.filter((u) => u.id !== id)));
    }
  };

  const saveEdit = (item: MessageItem, body: string) => {
    setEditing(null);
    const trimmed = body.trim();
    if (!trimmed || trimmed === item.content["body"]) return;
    actions.edit(item.id, editContent(item, trimmed)).catch((e: unknown) => showError(`Could not edit the message: ${errorText(e)}`));
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
        sent={sent}
        onReply={(item) => {
          setEditing(null);
          setReplyTo(item);
        }}
        onEdit={(item) => setEditing(item ? item.id : null)}
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
      {uploads.length > 0 && (
        <ul class="tl-uploads" aria-label="Uploads">
          {uploads.map((u) => (
            <li key={u.id}>
              <span>Uploading {u.name}</span>
              <progress aria-label={`Uploading ${u.name}`} max={1} value={u.progress} />
            </li>
          ))}
        </ul>
      )}
      <Composer
        model={model}
        replyTo={replyTo}
        onCancelReply={() => setReplyTo(null)}
        onSend={(content) => {
          actions.send(content);
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
