/**
 * Splitting a message body for display: the `@Name`s of mentioned users and roles, and
 * http(s) links (only these schemes: a `javascript:` text never becomes a link).
 */

/** Segments of `body` with the `@Label`s of mentioned users/roles marked, to render. */
export function highlightMentions(body: string, labels: readonly string[]): { text: string; mention: boolean }[] {
  const wanted = [...new Set(labels)].filter((l) => l.length > 0).sort((a, b) => b.length - a.length);
  if (wanted.length === 0) return [{ text: body, mention: false }];
  const escaped = wanted.map((l) => l.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const re = new RegExp(`@(?:${escaped.join("|")})`, "g");
  const out: { text: string; mention: boolean }[] = [];
  let last = 0;
  for (const m of body.matchAll(re)) {
    if (m.index! > last) out.push({ text: body.slice(last, m.index), mention: false });
    out.push({ text: m[0], mention: true });
    last = m.index! + m[0].length;
  }
  if (last < body.length) out.push({ text: body.slice(last), mention: false });
  return out;
}

/** Segments of plain text with http(s) links marked (trailing punctuation stays text). */
export function splitLinks(text: string): { text: string; link: boolean }[] {
  const out: { text: string; link: boolean }[] = [];
  let last = 0;
  for (const m of text.matchAll(/https?:\/\/[^\s<>"]+/g)) {
    let url = m[0];
    while (/[.,;:!?)\]]$/.test(url)) url = url.slice(0, -1);
    if (m.index! > last) out.push({ text: text.slice(last, m.index), link: false });
    out.push({ text: url, link: true });
    last = m.index! + url.length;
  }
  if (last < text.length) out.push({ text: text.slice(last), link: false });
  return out;
}
