/**
 * The little Markdown Discord users type, for display: ```code blocks```, `inline code`,
 * **bold**, *italic* / _italic_ and ~~strikethrough~~ (not nested). The body is sent as
 * typed; html.ts turns these spans into the escaped formatted_body other clients show.
 * Nothing here produces HTML: the view builds elements from these segments.
 */

export type Span =
  | { kind: "text" | "bold" | "italic" | "strike" | "code"; text: string }
  | { kind: "codeblock"; text: string };

const CODE = /```(?:[A-Za-z0-9_+-]*\n)?([\s\S]*?)```|`([^`\n]+)`/g;
// Underscores count only outside words (snake_case stays as is).
const EMPHASIS = /\*\*([^*\n]+?)\*\*|~~([^~\n]+?)~~|\*([^*\s](?:[^*\n]*?[^*\s])?)\*|(?<![A-Za-z0-9])_([^_\s](?:[^_\n]*?[^_\s])?)_(?![A-Za-z0-9])/g;

function emphasis(text: string): Span[] {
  const out: Span[] = [];
  let last = 0;
  for (const m of text.matchAll(EMPHASIS)) {
    if (m.index! > last) out.push({ kind: "text", text: text.slice(last, m.index) });
    if (m[1] !== undefined) out.push({ kind: "bold", text: m[1] });
    else if (m[2] !== undefined) out.push({ kind: "strike", text: m[2] });
    else out.push({ kind: "italic", text: (m[3] ?? m[4])! });
    last = m.index! + m[0].length;
  }
  if (last < text.length) out.push({ kind: "text", text: text.slice(last) });
  return out;
}

/** A body as styled spans, in order; their texts joined give the body without markers. */
export function parseMarkdown(body: string): Span[] {
  const out: Span[] = [];
  let last = 0;
  for (const m of body.matchAll(CODE)) {
    if (m.index! > last) out.push(...emphasis(body.slice(last, m.index)));
    if (m[1] !== undefined) out.push({ kind: "codeblock", text: m[1].replace(/\n$/, "") });
    else out.push({ kind: "code", text: m[2]! });
    last = m.index! + m[0].length;
  }
  if (last < body.length) out.push(...emphasis(body.slice(last)));
  return out;
}
