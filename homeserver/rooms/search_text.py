"""What of an event is searchable, and how text becomes search terms (pure).

spec: client-server "Server Side Search", "``room_events``" — the searched keys are
``content.body`` of ``m.room.message``, ``content.name`` of ``m.room.name`` and, of
``m.room.topic``, ``content.topic`` and the ``text/plain`` body of ``content['m.topic']``.

Text is indexed as its words: runs of letters and digits, lower-cased, separated by
one space (``tokenize``). Both engines index that normalised text and are queried
with the same words, so SQLite's FTS5 tokenizer and PostgreSQL's ``simple`` parser
see the same tokens (PostgreSQL's parser alone would keep ``alice@example.org`` or a
URL as one token where FTS5 splits it, and the two engines would answer differently).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from homeserver.protocol.events import Event

BODY = "content.body"
NAME = "content.name"
TOPIC = "content.topic"
# The searchable key of each event type: one key per type.
KEY_OF_TYPE = {"m.room.message": BODY, "m.room.name": NAME, "m.room.topic": TOPIC}
TYPE_OF_KEY = {key: event_type for event_type, key in KEY_OF_TYPE.items()}
ALL_KEYS = (BODY, NAME, TOPIC)
# At most this many distinct words of a search term are used (all must match).
MAX_TERMS = 32

_WORD = re.compile(r"[^\W_]+")


def tokenize(text: str) -> list[str]:
    """The words of ``text``: maximal runs of letters and digits, lower-cased."""
    return _WORD.findall(text.lower())


def search_terms(search_term: str) -> list[str]:
    """The distinct words of a search term, in order (each matches as a prefix)."""
    return list(dict.fromkeys(tokenize(search_term)))[:MAX_TERMS]


def _topic_texts(content: Mapping[str, Any]) -> list[str]:
    texts: list[str] = []
    topic = content.get("topic")
    if isinstance(topic, str):
        texts.append(topic)
    block = content.get("m.topic")
    representations = block.get("m.text") if isinstance(block, Mapping) else None
    if isinstance(representations, list):
        for item in representations:
            if not isinstance(item, Mapping):
                continue
            mimetype = item.get("mimetype", "text/plain")
            body = item.get("body")
            if mimetype == "text/plain" and isinstance(body, str) and body not in texts:
                texts.append(body)
    return texts


def searchable_texts(
    event_type: str, state_key: str | None, content: Mapping[str, Any]
) -> list[str]:
    """The raw texts of the event's searchable key (empty: nothing to index)."""
    if event_type == "m.room.message":
        body = content.get("body")
        return [body] if state_key is None and isinstance(body, str) else []
    if state_key != "":
        return []
    if event_type == "m.room.name":
        name = content.get("name")
        return [name] if isinstance(name, str) else []
    if event_type == "m.room.topic":
        return _topic_texts(content)
    return []


def index_entry(event: Event) -> tuple[str, str] | None:
    """``(key, normalised text)`` to index for ``event``, or None."""
    key = KEY_OF_TYPE.get(event.type)
    if key is None:
        return None
    words = [w for text in searchable_texts(event.type, event.state_key, event.content)
             for w in tokenize(text)]  # fmt: skip
    if not words:
        return None
    return key, " ".join(words)


def matched_words(texts: Iterable[str], terms: Sequence[str]) -> list[str]:
    """The words of ``texts`` that a term matched (terms match word prefixes), for
    ``highlights``: what a client should mark in the results."""
    found: dict[str, None] = {}
    for text in texts:
        for word in tokenize(text):
            if any(word.startswith(term) for term in terms):
                found[word] = None
    return list(found)
