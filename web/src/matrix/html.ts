// The typed Markdown as `formatted_body` (spec: client-server "m.room.message msgtypes",
// m.text `format: "org.matrix.custom.html"`, and the "HTML" subset): built from the same
// spans the view draws (markdown.ts), with every character of the typed text escaped, so
// the only markup in the result is the markup made here.

import { parseMarkdown, type Span } from "./markdown";

export const HTML_FORMAT = "org.matrix.custom.html";

/** A mention the composer inserted as `@label`: sent as a matrix.to pill (spec: "User
 * and room mentions" — clients link the user's matrix.to permalink). */
export interface Pill {
  label: string;
  userId: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const LINK = /https?:\/\/[^\s<>"]+/g;

/** Plain text with its http(s) links made `<a>` (trailing punctuation stays text, as the
 * view does) and line breaks `<br>`. */
function linkedText(text: string): string {
  let out = "";
  let last = 0;
  for (const m of text.matchAll(LINK)) {
    let url = m[0];
    while (/[.,;:!?)\]]$/.test(url)) url = url.slice(0, -1);
    out += escapeHtml(text.slice(last, m.index));
    out += `<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>`;
    last = m.index! + url.length;
  }
  out += escapeHtml(text.slice(last));
  return out.replace(/\n/g, "<br>");
}

function pillPattern(pills: readonly Pill[]): RegExp | null {
  const labels = [...new Set(pills.map((p) => p.label))].filter((l) => l.length > 0).sort((a, b) => b.length - a.length);
  if (labels.length === 0) return null;
  return new RegExp(`@(${labels.map((l) => l.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})`, "g");
}

function inline(text: string, pills: readonly Pill[], re: RegExp | null): { html: string; pilled: boolean } {
  if (!re) return { html: linkedText(text), pilled: false };
  let html = "";
  let last = 0;
  let pilled = false;
  for (const m of text.matchAll(re)) {
    const pill = pills.find((p) => p.label === m[1])!;
    html += linkedText(text.slice(last, m.index));
    html += `<a href="https://matrix.to/#/${escapeHtml(pill.userId)}">${escapeHtml(pill.label)}</a>`;
    last = m.index! + m[0].length;
    pilled = true;
  }
  html += linkedText(text.slice(last));
  return { html, pilled };
}

const WRAP: Record<string, string> = { bold: "strong", italic: "em", strike: "del" };

function spanHtml(span: Span, pills: readonly Pill[], re: RegExp | null): { html: string; pilled: boolean } {
  if (span.kind === "codeblock") return { html: `<pre><code>${escapeHtml(span.text)}</code></pre>`, pilled: false };
  if (span.kind === "code") return { html: `<code>${escapeHtml(span.text)}</code>`, pilled: false };
  const inner = inline(span.text, pills, re);
  const tag = WRAP[span.kind];
  return tag ? { html: `<${tag}>${inner.html}</${tag}>`, pilled: inner.pilled } : inner;
}

/**
 * `formatted_body` for a typed `body`, or undefined when it has neither Markdown the view
 * understands nor a mention pill: then `body` alone says it all, and other clients show
 * it as sent.
 */
export function markdownToHtml(body: string, pills: readonly Pill[] = []): string | undefined {
  const spans = parseMarkdown(body);
  const re = pillPattern(pills);
  let html = "";
  let formatted = false;
  for (const span of spans) {
    const part = spanHtml(span, pills, re);
    html += part.html;
    formatted ||= span.kind !== "text" || part.pilled;
  }
  return formatted ? html : undefined;
}
