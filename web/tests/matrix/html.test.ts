import { describe, expect, it } from "vitest";
import { editContent, textContent } from "../../src/matrix/content";
import { markdownToHtml } from "../../src/matrix/html";
import { pilledUser, sanitizeHtml, type SafeNode } from "../../src/matrix/sanitize";

describe("markdownToHtml", () => {
  it("converts the Markdown the view draws", () => {
    expect(markdownToHtml("**hi** there")).toBe("<strong>hi</strong> there");
    expect(markdownToHtml("*a* _b_ ~~c~~ `d`")).toBe("<em>a</em> <em>b</em> <del>c</del> <code>d</code>");
    expect(markdownToHtml("```js\nlet x = 1 < 2;\n```")).toBe("<pre><code>let x = 1 &#60; 2;</code></pre>");
  });

  it("gives nothing for plain text, so body alone is sent", () => {
    expect(markdownToHtml("just words, https://example.org and snake_case_name")).toBeUndefined();
  });

  it("escapes everything typed", () => {
    const html = markdownToHtml('**<script>alert(1)</script>** <img src=x onerror="y"> & \'q\'')!;
    expect(html).toBe(
      "<strong>&#60;script&#62;alert(1)&#60;/script&#62;</strong> &#60;img src=x onerror=&#34;y&#34;&#62; &#38; &#39;q&#39;",
    );
    expect(markdownToHtml("`<b>`")).toBe("<code>&#60;b&#62;</code>");
  });

  it("links http(s) URLs and breaks lines inside formatted messages", () => {
    expect(markdownToHtml("**see** https://ex.org/a?b=1&c=2.\nnext")).toBe(
      '<strong>see</strong> <a href="https://ex.org/a?b=1&#38;c=2">https://ex.org/a?b=1&#38;c=2</a>.<br>next',
    );
  });

  it("makes mention pills matrix.to links, even without other Markdown", () => {
    const pills = [{ label: "Bob Smith", userId: "@bob:example.org" }];
    expect(markdownToHtml("hi @Bob Smith!", pills)).toBe('hi <a href="https://matrix.to/#/@bob:example.org">Bob Smith</a>!');
    expect(markdownToHtml("**@Bob Smith**", pills)).toBe('<strong><a href="https://matrix.to/#/@bob:example.org">Bob Smith</a></strong>');
    expect(markdownToHtml("no mention here", pills)).toBeUndefined();
  });
});

describe("content with formatted_body", () => {
  it("sends format and formatted_body only when formatted, body as typed", () => {
    const rich = textContent({ body: "**hi** there" });
    expect(rich["body"]).toBe("**hi** there");
    expect(rich["format"]).toBe("org.matrix.custom.html");
    expect(rich["formatted_body"]).toBe("<strong>hi</strong> there");
    const plain = textContent({ body: "hi there" });
    expect(plain["format"]).toBeUndefined();
    expect(plain["formatted_body"]).toBeUndefined();
  });

  it("edits carry the HTML in m.new_content and a '* ' fallback", () => {
    const edit = editContent("$e", { body: "~~old~~ new" });
    expect(edit["formatted_body"]).toBe("* <del>old</del> new");
    expect((edit["m.new_content"] as Record<string, unknown>)["formatted_body"]).toBe("<del>old</del> new");
  });
});

/** The tree back as HTML, to compare (test-only; the app never builds HTML from it). */
function show(nodes: SafeNode[] | null): string {
  if (!nodes) return "(none)";
  return nodes
    .map((n) => {
      if (typeof n === "string") return n;
      const attrs = Object.entries(n.attrs).map(([k, v]) => ` ${k}="${v}"`).join("");
      return `<${n.tag}${attrs}>${show(n.children)}</${n.tag}>`;
    })
    .join("");
}

function allAttrs(nodes: SafeNode[] | null): string[] {
  return (nodes ?? []).flatMap((n) => (typeof n === "string" ? [] : [...Object.keys(n.attrs), ...allAttrs(n.children)]));
}

describe("sanitizeHtml", () => {
  it("keeps the allowed tags", () => {
    expect(show(sanitizeHtml("<b>bold</b> <em>it</em><br><ol start=\"3\"><li>x</li></ol><h2>T</h2>"))).toBe(
      '<b>bold</b> <em>it</em><br></br><ol start="3"><li>x</li></ol><h2>T</h2>',
    );
    expect(show(sanitizeHtml("<table><tbody><tr><td>1</td></tr></tbody></table>"))).toBe(
      "<table><tbody><tr><td>1</td></tr></tbody></table>",
    );
  });

  it("drops scripts and styles with their content", () => {
    expect(show(sanitizeHtml("<b>bold</b> <script>window.pwned = 1</script><style>body{display:none}</style>"))).toBe(
      "<b>bold</b> ",
    );
  });

  it("never keeps event handlers, style or other attributes", () => {
    const nodes = sanitizeHtml('<img src=x onerror="alert(1)"><b onclick="x()" style="color:red" id="i">b</b><span title="t">s</span>');
    expect(show(nodes)).toBe("<b>b</b><span>s</span>");
    expect(allAttrs(nodes)).toEqual([]);
  });

  it("keeps links only to http(s)/mailto, opened in a new tab", () => {
    expect(show(sanitizeHtml('<a href="javascript:alert(1)">click</a>'))).toBe("click");
    expect(show(sanitizeHtml('<a href=" JaVaScRiPt:alert(1)">x</a><a href="data:text/html,x">y</a><a href="/rel">z</a>'))).toBe("xyz");
    expect(show(sanitizeHtml('<a href="https://ex.org/" onclick="x">ok</a>'))).toBe(
      '<a href="https://ex.org/" target="_blank" rel="noopener noreferrer">ok</a>',
    );
    expect(show(sanitizeHtml('<a href="mailto:a@b.c">m</a>'))).toBe('<a href="mailto:a@b.c" target="_blank" rel="noopener noreferrer">m</a>');
  });

  it("flattens nested svg and math (their `a` and handlers included) to text", () => {
    const nodes = sanitizeHtml('<svg><a href="javascript:alert(1)"><text>t</text></a><image href=x onerror="alert(1)"/><foreignObject><b>f</b></foreignObject></svg><math><mi>m</mi></math>');
    // foreignObject holds HTML-namespace elements: the allowed ones stay.
    expect(show(nodes)).toBe("t<b>f</b>m");
    expect(allAttrs(nodes)).toEqual([]);
  });

  it("removes the mx-reply fallback", () => {
    expect(show(sanitizeHtml("<mx-reply><blockquote>old</blockquote></mx-reply>answer"))).toBe("answer");
  });

  it("turns unknown tags into their text and keeps code language classes only", () => {
    expect(show(sanitizeHtml('<div><font color="red">f</font><iframe src="https://x"></iframe><code class="language-js">c</code><code class="evil x">d</code></div>'))).toBe(
      'f<code class="language-js">c</code><code>d</code>',
    );
  });

  it("gives null when nothing visible is left, and bounds nesting", () => {
    expect(sanitizeHtml("<script>x</script>  ")).toBeNull();
    const deep = "<b>".repeat(300) + "deep" + "</b>".repeat(300);
    const flat = show(sanitizeHtml(deep));
    expect(flat).toContain("deep");
    expect(flat.split("<b>").length - 1).toBe(50);
  });

  it("recognises matrix.to user pills", () => {
    expect(pilledUser("https://matrix.to/#/@bob:example.org")).toBe("@bob:example.org");
    expect(pilledUser("https://matrix.to/#/%40bob%3Aexample.org")).toBe("@bob:example.org");
    expect(pilledUser("https://matrix.to/#/!room:example.org")).toBeUndefined();
    expect(pilledUser("https://evil.org/#/@bob:example.org")).toBeUndefined();
  });
});
