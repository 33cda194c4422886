// A received `formatted_body` as a safe tree (spec: client-server "m.room.message
// msgtypes", "HTML": clients should strip tags and attributes outside the recommended
// subset, and remove `mx-reply` — spec v1.13 dropped reply fallbacks). A strict
// allowlist over DOMParser's parse (a DOMParser document runs no script and loads
// nothing): only the tags below, only the attributes named for them, hrefs only
// http(s)/mailto, never style or on* handlers. Any other element gives its text. The view
// builds elements from the result; no HTML string is ever put into the page.

export interface SafeElement {
  tag: string;
  attrs: Record<string, string>;
  children: SafeNode[];
}
export type SafeNode = string | SafeElement;

const TAGS = new Set([
  "b", "strong", "i", "em", "u", "s", "del", "code", "pre", "blockquote", "p", "br", "ul", "ol", "li",
  "a", "span", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "sup", "sub",
  "table", "thead", "tbody", "tr", "th", "td", "caption",
]);
// Dropped with everything inside: their text is not message text.
const DROPPED = new Set(["mx-reply", "script", "style", "template", "noscript", "title", "head"]);
const HTML_NS = "http://www.w3.org/1999/xhtml";
// Deeper nesting than this is flattened to text (a hostile body cannot exhaust the stack).
const MAX_DEPTH = 50;

/** An href one may follow from a message: http(s) or mailto, absolute. */
export function safeHref(href: string): string | undefined {
  let url: URL;
  try {
    url = new URL(href.trim());
  } catch {
    return undefined;
  }
  return url.protocol === "http:" || url.protocol === "https:" || url.protocol === "mailto:" ? url.href : undefined;
}

function attrsOf(el: Element, tag: string): Record<string, string> | null {
  if (tag === "a") {
    const href = safeHref(el.getAttribute("href") ?? "");
    // A link without a followable target is only its text.
    return href ? { href, target: "_blank", rel: "noopener noreferrer" } : null;
  }
  if (tag === "ol") {
    const start = el.getAttribute("start");
    return start && /^\d{1,9}$/.test(start) ? { start } : {};
  }
  if (tag === "code") {
    const cls = el.getAttribute("class");
    return cls && /^language-[A-Za-z0-9_+-]{1,40}$/.test(cls) ? { class: cls } : {};
  }
  return {};
}

function textOf(node: Node): string {
  return node.textContent ?? "";
}

function convert(nodes: NodeListOf<ChildNode>, depth: number, out: SafeNode[]): void {
  for (const node of Array.from(nodes)) {
    if (node.nodeType === Node.TEXT_NODE) {
      out.push(textOf(node));
      continue;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) continue;
    const el = node as Element;
    const tag = el.localName.toLowerCase();
    if (DROPPED.has(tag)) continue;
    if (depth >= MAX_DEPTH) {
      out.push(textOf(el));
      continue;
    }
    // SVG/MathML elements share names with HTML ones (svg `a`); none is allowed.
    const attrs = el.namespaceURI === HTML_NS && TAGS.has(tag) ? attrsOf(el, tag) : null;
    if (!attrs) {
      convert(el.childNodes, depth + 1, out);
      continue;
    }
    const children: SafeNode[] = [];
    convert(el.childNodes, depth + 1, children);
    out.push({ tag, attrs, children });
  }
}

/** The safe tree of `html`, or null when nothing visible is left (show `body` instead). */
export function sanitizeHtml(html: string): SafeNode[] | null {
  const doc = new DOMParser().parseFromString(html, "text/html");
  const out: SafeNode[] = [];
  convert(doc.body.childNodes, 0, out);
  const visible = out.some((n) => typeof n !== "string" || n.trim() !== "");
  return visible ? out : null;
}

/** The matrix.to user a link pills, if it is one (spec: "Matrix URI scheme"/matrix.to). */
export function pilledUser(href: string): string | undefined {
  const m = /^https:\/\/matrix\.to\/#\/([^/?]+)$/.exec(href);
  if (!m) return undefined;
  try {
    const id = decodeURIComponent(m[1]!);
    return id.startsWith("@") ? id : undefined;
  } catch {
    return undefined;
  }
}
