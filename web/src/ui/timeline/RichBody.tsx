/**
 * A received `formatted_body` (format org.matrix.custom.html) drawn as Preact elements
 * from the sanitizer's tree (matrix/sanitize.ts): tags and attributes come only from its
 * allowlist, and no HTML string reaches the page. matrix.to user links show as mentions
 * ("@name"), as in plain bodies.
 */
import { h, type ComponentChildren } from "preact";
import { pilledUser, type SafeNode } from "../../matrix/sanitize";
import { highlightMentions } from "./model/text";

/** Text with the `@Label`s of the users/roles the event mentions marked (as plain bodies). */
function text(value: string, labels: readonly string[], key: number): ComponentChildren {
  const parts = highlightMentions(value, labels);
  if (parts.length === 1 && !parts[0]!.mention) return value;
  return h(
    "span",
    { key },
    ...parts.map((p, j) => (p.mention ? h("span", { key: j, class: "tl-mention" }, p.text) : p.text)),
  );
}

function render(nodes: SafeNode[], labels: readonly string[]): ComponentChildren[] {
  return nodes.map((node, i) => {
    if (typeof node === "string") return text(node, labels, i);
    const user = node.tag === "a" ? pilledUser(node.attrs["href"] ?? "") : undefined;
    if (user) {
      // A mention pill looks like the mentions of plain bodies: "@name", not a link away.
      const label = node.children.map((c) => (typeof c === "string" ? c : "")).join("");
      return h("span", { key: i, class: "tl-mention", title: user }, label.startsWith("@") ? "" : "@", ...render(node.children, []));
    }
    const props: Record<string, string | number> = { ...node.attrs, key: i };
    if (node.tag === "a") props["class"] = "tl-link";
    return h(node.tag, props, ...render(node.children, labels));
  });
}

export function RichBody({ nodes, emote, labels = [] }: { nodes: SafeNode[]; emote: boolean; labels?: readonly string[] }) {
  return <span class={emote ? "tl-text tl-rich tl-emote" : "tl-text tl-rich"}>{render(nodes, labels)}</span>;
}
