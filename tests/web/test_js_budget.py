"""The first load of the web client stays within 300 KB of JavaScript, gzipped (issue 10:
"Lighthouse-style budget"): index.html's scripts and module preloads, plus every module
they import statically, transitively. Chunks loaded later by ``import()`` (lazy screens)
are not part of the first load."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from .harness import ensure_web_built

BUDGET_BYTES = 300 * 1000
_HTML_REFS = re.compile(
    r"""<(?:script[^>]*\bsrc|link[^>]*\brel=["']?modulepreload["']?[^>]*\bhref)=["']?([^"'\s>]+)"""
)
_LINK_REFS = re.compile(r"""<link[^>]*\bhref=["']?([^"'\s>]+)[^>]*\brel=["']?modulepreload""")
# `import x from "./a.js"`, `import "./a.js"`, `export * from "./a.js"` (minified or not);
# not `import("./a.js")`, which loads later.
_STATIC_IMPORTS = re.compile(
    r"""\b(?:import|export)\s*(?:[\w$*{}\s,]*?\bfrom\s*)?["']((?:\.{1,2}/|/)[^"']+\.m?js)["']"""
)


def _resolve(dist: Path, base: Path, ref: str) -> Path:
    path = dist / ref.lstrip("/") if ref.startswith("/") else (base.parent / ref)
    return path.resolve()


def first_load(dist: Path) -> dict[Path, int]:
    """Every JavaScript file of the first load, with its gzipped size."""
    html = (dist / "index.html").read_text()
    refs = _HTML_REFS.findall(html) + _LINK_REFS.findall(html)
    pending = [
        _resolve(dist, dist / "index.html", r)
        for r in refs
        if r.endswith((".js", ".mjs")) and not r.startswith(("http:", "https:", "//"))
    ]
    sizes: dict[Path, int] = {}
    while pending:
        path = pending.pop()
        if path in sizes:
            continue
        assert path.is_file(), f"{path} is referenced by the first load but missing"
        body = path.read_bytes()
        sizes[path] = len(gzip.compress(body, compresslevel=9))
        for ref in _STATIC_IMPORTS.findall(body.decode("utf-8", errors="replace")):
            pending.append(_resolve(dist, path, ref))
    return sizes


def test_first_load_is_at_most_300_kb_of_gzipped_javascript() -> None:
    dist = ensure_web_built()
    sizes = first_load(dist)
    assert sizes, "index.html loads no script"
    total = sum(sizes.values())
    listing = ", ".join(f"{p.name} {s / 1000:.1f} KB" for p, s in sorted(sizes.items()))
    print(f"first load: {total / 1000:.1f} KB gzipped ({listing})")
    assert total <= BUDGET_BYTES, f"first load is {total / 1000:.1f} KB gzipped: {listing}"


def test_the_measure_follows_static_imports(tmp_path: Path) -> None:
    """The walk itself: static imports count, dynamic ones do not."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<script type="module" src="/assets/a.js"></script>')
    (tmp_path / "assets" / "a.js").write_text(
        'import{x as y}from"./b.js";import"./c.js";const l=()=>import("./lazy.js");'
    )
    (tmp_path / "assets" / "b.js").write_text('export*from"./d.js";export const x=1;')
    (tmp_path / "assets" / "c.js").write_text("console.log(1)")
    (tmp_path / "assets" / "d.js").write_text("export const d=2")
    (tmp_path / "assets" / "lazy.js").write_text("x" * 100_000)
    names = sorted(p.name for p in first_load(tmp_path))
    assert names == ["a.js", "b.js", "c.js", "d.js"]
