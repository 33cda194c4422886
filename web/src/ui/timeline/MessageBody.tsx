/**
 * A message's content: text with mentions highlighted, or its attachment (images and GIFs
 * inline — a GIF is served as image/gif and animates by itself —, audio with a player,
 * video, other files as a download link). spec: client-server "m.room.message msgtypes".
 */
import { useMemo } from "preact/hooks";
import type { ChannelActions, ChannelModel } from "./channelModel";
import { HTML_FORMAT } from "../../matrix/html";
import { parseMarkdown } from "../../matrix/markdown";
import { sanitizeHtml } from "../../matrix/sanitize";
import { highlightMentions, splitLinks } from "./model/text";
import { RichBody } from "./RichBody";

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function mentionLabels(model: ChannelModel, content: Record<string, unknown>): string[] {
  const labels: string[] = [];
  const mentions = content["m.mentions"];
  if (isObject(mentions) && Array.isArray(mentions["user_ids"])) {
    for (const id of mentions["user_ids"]) if (typeof id === "string") labels.push(model.person(id).name);
  }
  const roles = content["im.concord.role_mentions"];
  if (Array.isArray(roles)) {
    for (const id of roles) {
      const name = typeof id === "string" ? model.roleNames.get(id) : undefined;
      if (name) labels.push(name);
    }
  }
  return labels;
}

function Inline({ text, labels }: { text: string; labels: string[] }) {
  return (
    <>
      {highlightMentions(text, labels).map((p, i) =>
        p.mention ? (
          <span key={i} class="tl-mention">
            {p.text}
          </span>
        ) : (
          splitLinks(p.text).map((q, j) =>
            q.link ? (
              <a key={`${i}.${j}`} class="tl-link" href={q.text} target="_blank" rel="noreferrer noopener">
                {q.text}
              </a>
            ) : (
              q.text
            ),
          )
        ),
      )}
    </>
  );
}

/** `body`: the text to show (reply fallback already removed by the store's items), with
 * its Markdown styled, mentions marked and links made. An HTML `formatted_body` is shown
 * instead when the sanitizer leaves something of it. */
export function TextBody({ model, content, body }: { model: ChannelModel; content: Record<string, unknown>; body: string }) {
  const html = content["format"] === HTML_FORMAT && typeof content["formatted_body"] === "string" ? content["formatted_body"] : undefined;
  const nodes = useMemo(() => (html === undefined ? null : sanitizeHtml(html)), [html]);
  const labels = mentionLabels(model, content);
  if (nodes) return <RichBody nodes={nodes} emote={content["msgtype"] === "m.emote"} labels={labels} />;
  return (
    <span class={content["msgtype"] === "m.emote" ? "tl-text tl-emote" : "tl-text"}>
      {parseMarkdown(body).map((span, i) => {
        if (span.kind === "codeblock") {
          return (
            <pre key={i} class="tl-pre">
              <code>{span.text}</code>
            </pre>
          );
        }
        if (span.kind === "code") {
          return (
            <code key={i} class="tl-code">
              {span.text}
            </code>
          );
        }
        const inner = <Inline text={span.text} labels={labels} />;
        if (span.kind === "bold") return <strong key={i}>{inner}</strong>;
        if (span.kind === "italic") return <em key={i}>{inner}</em>;
        if (span.kind === "strike") return <s key={i}>{inner}</s>;
        return <span key={i}>{inner}</span>;
      })}
    </span>
  );
}

export function MessageBody({
  model,
  actions,
  content,
  body,
}: {
  model: ChannelModel;
  actions: ChannelActions;
  content: Record<string, unknown>;
  body: string;
}) {
  const msgtype = content["msgtype"];
  const url = typeof content["url"] === "string" ? content["url"] : undefined;
  const name = typeof content["filename"] === "string" ? content["filename"] : body || "file";
  if (!url || !url.startsWith("mxc://")) return <TextBody model={model} content={content} body={body} />;
  const src = actions.mediaUrl(url);
  const info = isObject(content["info"]) ? content["info"] : {};
  if (msgtype === "m.image") {
    const w = typeof info["w"] === "number" ? info["w"] : undefined;
    const h = typeof info["h"] === "number" ? info["h"] : undefined;
    return (
      <a class="tl-image-link" href={src} target="_blank" rel="noreferrer">
        <img class="tl-image" src={src} alt={name} width={w} height={h} loading="lazy" />
      </a>
    );
  }
  if (msgtype === "m.audio") {
    return (
      <figure class="tl-audio">
        <figcaption>{name}</figcaption>
        <audio controls preload="metadata" src={src} aria-label={`Audio: ${name}`} />
      </figure>
    );
  }
  if (msgtype === "m.video") {
    return <video class="tl-video" controls preload="metadata" src={src} aria-label={`Video: ${name}`} />;
  }
  return (
    <a class="tl-file" href={src} download={name}>
      {name}
    </a>
  );
}
