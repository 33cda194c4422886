"""The words the user directory indexes and matches."""

from __future__ import annotations

from homeserver.storage.search_text import escape_like, search_text, words


def test_words_are_case_folded_and_split_on_punctuation() -> None:
    assert words("@Alice_B:Example.ORG") == ["alice", "b", "example", "org"]
    assert words("Straße Ünïcode 42") == ["strasse", "ünïcode", "42"]
    assert words("!!! ___ ") == []


def test_search_text_holds_each_word_once_between_spaces() -> None:
    text = search_text("@bob:test.local", "Bob the Builder")
    assert text == " bob test local the builder "
    assert search_text("@bob:test.local", None) == " bob test local "


def test_like_escaping() -> None:
    assert escape_like("50%_off!") == "50!%!_off!!"
