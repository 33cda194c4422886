/**
 * A received `formatted_body` (format org.matrix.custom.html) drawn as Preact elements
 * from the sanitizer's tree (matrix/sanitize.ts): tags and attributes come only from its
 * allowlist, and no HTML string reaches the page. matrix.to user links show as mentions
 * ("@name"), as in plain bodies.
 */
import { h, type ComponentChildren } from "preact";
import { pilledUser, type SafeNode } from "../../matrix/sanitize";

function render(nodes: SafeNode[]): ComponentChildren[] {
  return nodes.map((node, i) => {
    if (typeof node === "string") return node;
    const user = node.tag === "a" ? pilledUser(node.attrs["href"] ?? "") : undefined;
    if (user) {
      // A mention pill looks like the mentions of plain bodies: "@name", not a link away.
      const text = node.children.map((c) => (typeof c === "string" ? c : "")).join("");
      return h("span", { key: i, class: "tl-mention", title: user }, text.startsWith("@") ? "" : "@", ...render(node.children));
    }
    const props: Record<string, string | number> = { ...node.attrs, key: i };
    if (node.tag === "a") props["class"] = "tl-link";
    return h(node.tag, props, ...render(node.children));
  });
}

export function RichBody({ nodes, emote }: { nodes: SafeNode[]; emote: boolean }) {
  return <span class={emote ? "tl-text tl-rich tl-emote" : "tl-text tl-rich"}>{render(nodes)}</span>;
}
