"""The words the user directory matches, and the ``LIKE`` patterns that find them (pure).

spec: client-server "User Directory" — case-insensitive on user ids and display names.
A user's ``search_text`` is the case-folded words of their id and display name, each
preceded by a space; a search term matches when each of its words is the beginning of
one of those words (``LIKE '% word%'``), which runs the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re

# Letters and digits (any script); everything else, `_` included, separates words, so
# `@alice_b:example.org` has the words alice, b, example, org.
_WORD = re.compile(r"[^\W_]+")
LIKE_ESCAPE = "!"


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def search_text(user_id: str, display_name: str | None) -> str:
    found = words(user_id)
    if display_name:
        found += words(display_name)
    return " " + " ".join(dict.fromkeys(found)) + " "


def escape_like(text: str) -> str:
    for char in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(char, LIKE_ESCAPE + char)
    return text
