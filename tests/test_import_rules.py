"""The import direction rules of DESIGN.md ("Import direction"), checked on the source.

- ``homeserver.protocol`` and ``homeserver.chat`` are pure: they import nothing of ours but
  each other's modules, and no module that does I/O, reads the clock or draws randomness.
- ``federation`` and ``appservice`` may import ``homeserver.*`` except ``homeserver.app``.
- Only ``homeserver/app.py`` (the composition root) imports ``federation`` or ``appservice``.
- ``sfu`` imports nothing from ``homeserver``, ``federation`` or ``appservice``: it talks to
  the homeserver over HTTP only.

Every import counts, including those under ``if TYPE_CHECKING:`` and inside functions, and
``importlib.import_module("...")`` / ``__import__("...")`` with a literal name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OUR_PACKAGES = ("homeserver", "federation", "appservice", "sfu")
PURE_PACKAGES = ("homeserver.protocol", "homeserver.chat")
COMPOSITION_ROOT = "homeserver.app"
# Top-level modules that do I/O, read the clock or draw randomness (DESIGN.md: the pure
# packages have "no I/O, no clock, no database, no network, no aiohttp"; STYLE.md: time and
# randomness are injected). Pure helpers (hashlib, base64, re, math, ipaddress, nacl,
# signedjson, canonicaljson, ...) stay allowed.
FORBIDDEN_IN_PURE = frozenset(
    {
        "aiohttp",
        "aiortc",
        "asyncio",
        "sqlite3",
        "psycopg",
        "psycopg_pool",
        "psycopg2",
        "socket",
        "ssl",
        "select",
        "selectors",
        "http",
        "urllib",
        "os",
        "pathlib",
        "shutil",
        "tempfile",
        "subprocess",
        "threading",
        "multiprocessing",
        "time",
        "datetime",
        "random",
        "secrets",
        "prometheus_client",
    }
)


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imported}: {self.rule}"


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def imported_names(source: str, module: str, *, is_package: bool) -> Iterator[tuple[int, str]]:
    """Every module (or module attribute) that ``source`` imports, fully qualified.

    ``from a.b import c`` yields ``a.b.c``: ``c`` may be a submodule, and prefix checks on
    ``a.b`` still hold when it is an attribute. Relative imports are resolved against
    ``module``.
    """
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                if node.level - 1 > len(parts) - 1:
                    yield node.lineno, "<relative import beyond the top-level package>"
                    continue
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                if node.module:
                    base = f"{base}.{node.module}" if base else node.module
            else:
                base = node.module or ""
            for alias in node.names:
                yield node.lineno, base if alias.name == "*" else f"{base}.{alias.name}"
        elif isinstance(node, ast.Call) and node.args:
            func, arg = node.func, node.args[0]
            is_dynamic = (isinstance(func, ast.Name) and func.id == "__import__") or (
                isinstance(func, ast.Attribute) and func.attr == "import_module"
            )
            name = arg.value if isinstance(arg, ast.Constant) else None
            if is_dynamic and isinstance(name, str) and not name.startswith("."):
                yield node.lineno, name


def rule_broken(importer: str, imported: str) -> str | None:
    """The rule that ``importer`` importing ``imported`` breaks, or None."""
    top = imported.split(".")[0]
    ours = top in OUR_PACKAGES
    if imported.startswith("<"):
        return imported
    if any(_within(importer, p) for p in PURE_PACKAGES):
        if ours and not any(_within(imported, p) for p in PURE_PACKAGES):
            return "homeserver.protocol/chat may import only each other's modules"
        if top in FORBIDDEN_IN_PURE:
            return "homeserver.protocol/chat must not do I/O or read the clock or randomness"
        return None
    if _within(importer, "sfu"):
        if ours and top != "sfu":
            return "sfu talks to the homeserver over HTTP only"
        return None
    crosses_into = top in ("federation", "appservice") and not _within(importer, top)
    if crosses_into and importer != COMPOSITION_ROOT:
        return "only homeserver/app.py may import federation and appservice"
    if _within(importer, "federation") or _within(importer, "appservice"):
        if _within(imported, COMPOSITION_ROOT):
            return "federation and appservice must not import homeserver.app"
        if top == "sfu":
            return "sfu is reached over HTTP only"
    return None


def check_source(source: str, module: str, *, is_package: bool = False) -> list[Violation]:
    return [
        Violation(module, line, imported, rule)
        for line, imported in imported_names(source, module, is_package=is_package)
        if (rule := rule_broken(module, imported)) is not None
    ]


def our_modules() -> Iterator[tuple[Path, str, bool]]:
    for package in OUR_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            yield path, ".".join(parts), is_package


def test_the_tree_follows_the_import_rules() -> None:
    scanned: list[str] = []
    violations: list[Violation] = []
    for path, module, is_package in our_modules():
        scanned.append(module)
        violations += check_source(path.read_text("utf-8"), module, is_package=is_package)
    # The walk found the tree (a wrong ROOT would make this test pass vacuously).
    assert {"homeserver.protocol.ids", "homeserver.protocol", "sfu"} <= set(scanned)
    assert not violations, "\n".join(map(str, violations))


# -- the checker itself must be able to fail -----------------------------------------------

BAD = [
    # (importer, source, is_package)
    ("homeserver.protocol.x", "import aiohttp", False),
    ("homeserver.protocol.x", "from aiohttp import web", False),
    ("homeserver.protocol.x", "import os.path", False),
    ("homeserver.protocol.x", "import time", False),
    ("homeserver.protocol.x", "from datetime import datetime", False),
    ("homeserver.protocol.x", "import random", False),
    ("homeserver.chat.x", "import sqlite3", False),
    ("homeserver.chat.x", "import psycopg", False),
    ("homeserver.chat.x", "import asyncio", False),
    ("homeserver.chat.x", "import socket", False),
    ("homeserver.protocol.x", "from homeserver.storage import store", False),
    ("homeserver.protocol.x", "from homeserver import config", False),
    ("homeserver.protocol.x", "from .. import config", False),
    ("homeserver.protocol", "from .. import config", True),
    ("homeserver.chat.x", "from ...federation import send", False),
    ("homeserver.chat.x", "import federation", False),
    ("homeserver.protocol.x", "def f():\n    import homeserver.app", False),
    ("homeserver.protocol.x", "if TYPE_CHECKING:\n    from homeserver.rooms import R", False),
    ("homeserver.protocol.x", "import importlib\nimportlib.import_module('os')", False),
    ("homeserver.protocol.x", "__import__('homeserver.storage')", False),
    ("homeserver.protocol.x", "from .... import x", False),
    ("federation.sender", "from homeserver.app import build_app", False),
    ("federation.sender", "from homeserver import app", False),
    ("appservice.pusher", "import homeserver.app", False),
    ("appservice.pusher", "from federation import keys", False),
    ("federation.sender", "import appservice.pusher", False),
    ("federation", "import sfu.server", True),
    ("homeserver.rooms.pipeline", "from federation import sender", False),
    ("homeserver.config", "import appservice", False),
    ("homeserver.__main__", "from federation.keys import k", False),
    ("sfu.server", "from homeserver.protocol.ids import parse_user_id", False),
    ("sfu.server", "import federation", False),
    ("sfu", "from appservice import registration", True),
]

GOOD = [
    ("homeserver.protocol.x", "import hashlib, base64, re, math, ipaddress", False),
    ("homeserver.protocol.x", "import nacl.signing\nimport signedjson.key", False),
    ("homeserver.protocol.x", "import canonicaljson\nfrom typing import Any", False),
    ("homeserver.protocol.x", "from .errors import InvalidIdentifier", False),
    ("homeserver.protocol", "from . import ids", True),
    ("homeserver.protocol.x", "from ..chat import permissions", False),
    ("homeserver.chat.x", "from homeserver.protocol.events import Event", False),
    ("homeserver.chat.x", "from homeserver import protocol", False),
    ("homeserver.chat.x", "from ..protocol.ids import UserId", False),
    ("homeserver.app", "from federation import keys_server\nimport appservice", False),
    ("homeserver.rooms.pipeline", "from homeserver.storage.store import Store", False),
    ("homeserver.rooms.pipeline", "import asyncio, os, time", False),
    ("federation.sender", "from homeserver.rooms import pipeline", False),
    ("federation.sender", "from homeserver.protocol.signing import sign_json", False),
    ("federation.sender", "from .queue import Queue", False),
    ("federation", "from . import keys_server", True),
    ("appservice.pusher", "from homeserver.config import Config\nimport aiohttp", False),
    ("sfu.server", "import aiortc, aiohttp, jwt\nfrom .rtp import rewrite", False),
    ("sfu.server", "from sfu.rtp import rewrite", False),
]


@pytest.mark.parametrize(("module", "source", "is_package"), BAD)
def test_checker_flags_forbidden_imports(module: str, source: str, is_package: bool) -> None:
    assert check_source(source, module, is_package=is_package), source


@pytest.mark.parametrize(("module", "source", "is_package"), GOOD)
def test_checker_allows_permitted_imports(module: str, source: str, is_package: bool) -> None:
    assert check_source(source, module, is_package=is_package) == []


def test_relative_imports_resolve() -> None:
    def names(source: str, module: str, is_package: bool) -> list[str]:
        return [name for _, name in imported_names(source, module, is_package=is_package)]

    assert names("from .errors import E", "homeserver.protocol.ids", False) == [
        "homeserver.protocol.errors.E"
    ]
    assert names("from . import ids", "homeserver.protocol", True) == ["homeserver.protocol.ids"]
    assert names("from ..chat import p", "homeserver.protocol.ids", False) == ["homeserver.chat.p"]
    assert names("from .. import app", "federation.x", False) == [
        "<relative import beyond the top-level package>"
    ]
