import { cleanup, render } from "@testing-library/preact";
import { afterEach, describe, expect, it } from "vitest";

import { sanitizeHtml } from "../../src/matrix/sanitize";
import { RichBody } from "../../src/ui/timeline/RichBody";

afterEach(cleanup);

function draw(html: string): Element {
  const nodes = sanitizeHtml(html);
  expect(nodes).not.toBeNull();
  return render(<RichBody nodes={nodes!} emote={false} />).container;
}

describe("RichBody", () => {
  it("draws the sanitized tree as elements, links opening in a new tab", () => {
    const root = draw('<p><strong>hi</strong> <a href="https://ex.org/">site</a></p><ul><li>one</li></ul>');
    expect(root.querySelector("p strong")?.textContent).toBe("hi");
    const link = root.querySelector("a")!;
    expect(link.getAttribute("href")).toBe("https://ex.org/");
    expect(link.getAttribute("target")).toBe("_blank");
    expect(link.getAttribute("rel")).toContain("noopener");
    expect(root.querySelector("ul li")?.textContent).toBe("one");
  });

  it("leaves hostile markup inert: text only, no script, handler or javascript: link", () => {
    const root = draw(
      '<b>bold</b><script>alert(1)</script><img src=x onerror="alert(2)"><a href="javascript:alert(3)">js</a>' +
        '<svg><a href="javascript:alert(4)">svg</a></svg><span style="color:red" onmouseover="alert(5)">s</span>',
    );
    expect(root.textContent).toBe("boldjssvgs");
    expect(root.querySelectorAll("script, img, svg, a, [style], [onerror], [onmouseover]")).toHaveLength(0);
  });

  it("draws matrix.to user pills as @mentions, not links", () => {
    const root = draw('hey <a href="https://matrix.to/#/@bob:x">Bob</a>');
    const pill = root.querySelector(".tl-mention")!;
    expect(pill.textContent).toBe("@Bob");
    expect(pill.getAttribute("title")).toBe("@bob:x");
    expect(root.querySelector("a")).toBeNull();
  });

  it("marks the @labels of mentioned roles in text, as plain bodies do", () => {
    const nodes = sanitizeHtml("<em>ping</em> @Crew now")!;
    const root = render(<RichBody nodes={nodes} emote={false} labels={["Crew"]} />).container;
    expect(root.querySelector(".tl-mention")?.textContent).toBe("@Crew");
    expect(root.textContent).toBe("ping @Crew now");
  });
});
