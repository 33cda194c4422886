"""``POST /search`` (spec: client-server "Server Side Search") over HTTP, on both
databases: what is found (bodies, names, topics), where (only rooms the user has been
in, up to their leave, as history visibility allows), in which order, in pages, with
context, filters, groups and state; redacted events are no longer found; bad requests
are refused and change nothing.

Scenarios share a server, so each uses words of its own."""

from __future__ import annotations

from typing import Any

from homeserver.appkeys import STORE_KEY
from homeserver.storage.database import Txn
from homeserver.storage.migrations import migration_files, render

from ...support.matrix_client import Server, User, q


async def search(user: User, term: str, *, next_batch: str | None = None, **criteria: Any) -> Any:
    """The ``room_events`` answer of a search for ``term`` (must succeed)."""
    reply = await raw_search(user, {"search_term": term, **criteria}, next_batch=next_batch)
    return reply.ok()["search_categories"]["room_events"]


async def raw_search(
    user: User, room_events: Any, *, next_batch: str | None = None, body: Any = None
) -> Any:
    params = {"next_batch": next_batch} if next_batch is not None else None
    payload = body if body is not None else {"search_categories": {"room_events": room_events}}
    return await user.call("POST", "/search", payload, params=params)


def ids(found: Any) -> list[str]:
    return [r["result"]["event_id"] for r in found["results"]]


def bodies(found: Any) -> list[str]:
    return [r["result"]["content"]["body"] for r in found["results"]]


async def all_pages(user: User, term: str, **criteria: Any) -> list[list[str]]:
    """The event ids of every page, following ``next_batch`` to the end."""
    pages: list[list[str]] = []
    token: str | None = None
    for _ in range(100):
        found = await search(user, term, next_batch=token, **criteria)
        pages.append(ids(found))
        token = found.get("next_batch")
        if token is None:
            return pages
    raise AssertionError("pagination did not end")


# ---------------------------------------------------------------- what is found


async def check_finds_bodies_names_and_topics(alice: User) -> None:
    room = await alice.create_room(name="Quasar Lounge", topic="Nebula discussions")
    message = await alice.send(room, "The Zephyr blows, café-style!")
    found = await search(alice, "zephyr")
    assert ids(found) == [message]
    result = found["results"][0]
    assert result["result"]["room_id"] == room and result["result"]["type"] == "m.room.message"
    assert result["result"]["sender"] == alice.user_id
    assert isinstance(result["rank"], float) and result["rank"] > 0
    assert found["count"] == 1 and "zephyr" in found["highlights"]
    assert "context" not in result
    # Rendered as for /messages: the sending device sees its transaction id.
    assert result["result"]["unsigned"]["transaction_id"].startswith("t")
    # Case-insensitive, every word must match, each as a word prefix.
    assert ids(await search(alice, "ZEPHYR BLOWS")) == [message]
    assert ids(await search(alice, "zeph")) == [message]
    assert ids(await search(alice, "café")) == [message]
    assert ids(await search(alice, "zephyr missing")) == []
    assert ids(await search(alice, "ephyr")) == []  # a prefix, not any substring
    # Query syntax of either engine is plain text here.
    assert ids(await search(alice, "zephyr:* & !| 'blows'")) == [message]
    assert ids(await search(alice, 'NOT "zephyr" OR (blows* NEAR')) == []
    assert ids(await search(alice, "Zephyr AND blows")) == []  # "and" is a word too
    prefixed = await search(alice, "blo")
    assert ids(prefixed) == [message] and prefixed["highlights"] == ["blo", "blows"]
    # Names and topics.
    name = (await search(alice, "quasar"))["results"]
    assert [(r["result"]["type"], r["result"]["content"]["name"]) for r in name] == [
        ("m.room.name", "Quasar Lounge")
    ]
    topic = (await search(alice, "nebula"))["results"]
    assert [r["result"]["type"] for r in topic] == ["m.room.topic"]
    # spec: also the text/plain body of m.topic (not its other representations).
    rich = {
        "topic": "Vortex",
        "m.topic": {
            "m.text": [
                {"mimetype": "text/html", "body": "<b>hypernova</b>"},
                {"body": "Vortex and wormholes"},
            ]
        },
    }
    topic_id = (await alice.put_state(room, "m.room.topic", rich)).ok()["event_id"]
    assert ids(await search(alice, "wormholes")) == [topic_id]
    assert ids(await search(alice, "hypernova")) == []
    # keys narrow the search.
    assert ids(await search(alice, "quasar", keys=["content.body"])) == []
    assert len((await search(alice, "quasar", keys=["content.name"]))["results"]) == 1
    assert ids(await search(alice, "zephyr", keys=["content.name", "content.topic"])) == []
    # Other event types and state keys are not indexed.
    await alice.send(room, "kiwano", event_type="org.example.custom")
    await alice.put_state(room, "m.room.name", {"name": "kiwano"}, state_key="not-empty")
    assert (await search(alice, "kiwano"))["count"] == 0
    # A term without words matches nothing.
    for term in ("", "   ", "!?."):
        assert await search(alice, term) == {"count": 0, "highlights": [], "results": []}


async def check_only_rooms_the_user_has_been_in(alice: User, bob: User) -> None:
    private = await alice.create_room(name="Kumquat hideout")
    await alice.send(private, "kumquat secrets")
    public = await alice.create_room(preset="public_chat")
    in_public = await alice.send(public, "kumquat for everyone")
    # Bob is in neither room: nothing, not even the public room's messages.
    assert await search(bob, "kumquat") == {"count": 0, "highlights": ["kumquat"], "results": []}
    # Invited is not joined.
    assert (await alice.invite(private, bob.user_id)).status == 200
    assert ids(await search(bob, "kumquat")) == []
    await bob.join(public)
    assert ids(await search(bob, "kumquat")) == [in_public]
    # After leaving: what came before the leave, not after.
    await bob.leave(public)
    await alice.send(public, "kumquat after bob left")
    assert ids(await search(bob, "kumquat")) == [in_public]
    # Forgetting the room: nothing of it.
    assert (await bob.call("POST", f"/rooms/{q(public)}/forget", {})).status == 200
    assert ids(await search(bob, "kumquat")) == []
    # Alice sees all four (the name, three messages).
    assert (await search(alice, "kumquat"))["count"] == 4


async def check_history_visibility_applies(alice: User, bob: User) -> None:
    room = await alice.create_room(
        preset="public_chat",
        initial_state=[
            {"type": "m.room.history_visibility", "content": {"history_visibility": "joined"}}
        ],
    )
    await alice.send(room, "persimmon before bob")
    await bob.join(room)
    after = await alice.send(room, "persimmon after bob")
    assert ids(await search(bob, "persimmon")) == [after]
    assert len(ids(await search(alice, "persimmon"))) == 2


async def check_encrypted_rooms_are_not_searched(alice: User) -> None:
    room = await alice.create_room(name="Tamarillo club")
    await alice.send(room, "tamarillo plain")
    assert len(ids(await search(alice, "tamarillo"))) == 2
    encryption = {"algorithm": "m.megolm.v1.aes-sha2"}
    assert (await alice.put_state(room, "m.room.encryption", encryption)).status == 200
    assert await search(alice, "tamarillo") == {
        "count": 0,
        "highlights": ["tamarillo"],
        "results": [],
    }


async def test_what_is_found(alice: User, bob: User) -> None:
    await check_finds_bodies_names_and_topics(alice)
    await check_only_rooms_the_user_has_been_in(alice, bob)
    await check_history_visibility_applies(alice, bob)
    await check_encrypted_rooms_are_not_searched(alice)


# ---------------------------------------------------------------- order and pages


async def check_rank_and_recent_order(alice: User) -> None:
    room = await alice.create_room()
    once = await alice.send(room, "apricot in a long sentence with many other words around")
    thrice = await alice.send(room, "apricot apricot apricot")
    newest = await alice.send(room, "an apricot, again, in more words than the last one")
    ranked = await search(alice, "apricot")  # rank is the default order
    assert ids(ranked)[0] == thrice
    ranks = [r["rank"] for r in ranked["results"]]
    assert ranks == sorted(ranks, reverse=True)
    assert ids(await search(alice, "apricot", order_by="rank")) == ids(ranked)
    recent = await search(alice, "apricot", order_by="recent")
    assert ids(recent) == [newest, thrice, once]
    assert all(isinstance(r["rank"], float) for r in recent["results"])


async def check_pagination(alice: User) -> None:
    room = await alice.create_room()
    sent = [await alice.send(room, f"walnut number {i}") for i in range(25)]
    for order in ("recent", "rank"):
        pages = await all_pages(alice, "walnut", order_by=order, filter={"limit": 10})
        assert [len(page) for page in pages] == [10, 10, 5]
        flat = [event_id for page in pages for event_id in page]
        assert sorted(flat) == sorted(sent)
        if order == "recent":
            assert flat == list(reversed(sent))
    # Exactly a page's worth: the last page has no next_batch.
    pages = await all_pages(alice, "walnut", order_by="recent", filter={"limit": 5})
    assert [len(page) for page in pages] == [5] * 5
    # The count is of all results, on every page.
    first = await search(alice, "walnut", order_by="recent", filter={"limit": 10})
    assert first["count"] == 25
    # Pages continue over what existed at the first page: a new message is not mixed
    # into later pages (the next search finds it first).
    late = await alice.send(room, "walnut late")
    rest = await search(
        alice, "walnut", order_by="recent", filter={"limit": 100}, next_batch=first["next_batch"]
    )
    assert ids(rest) == list(reversed(sent))[10:]
    assert rest["count"] == 25 and "next_batch" not in rest
    assert ids(await search(alice, "walnut", order_by="recent", filter={"limit": 1})) == [late]
    # A token of one order does not continue the other.
    reply = await raw_search(
        alice, {"search_term": "walnut", "order_by": "rank"}, next_batch=first["next_batch"]
    )
    assert reply.status == 400 and reply.errcode == "M_INVALID_PARAM"
    # The default limit is 10, and a larger one is capped at 100.
    assert len((await search(alice, "walnut"))["results"]) == 10
    assert len((await search(alice, "walnut", filter={"limit": 5000}))["results"]) == 26


async def test_order_and_pagination(alice: User) -> None:
    await check_rank_and_recent_order(alice)
    await check_pagination(alice)


# ---------------------------------------------------------------- context, filters, groups


async def check_context(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    await alice.put_state(
        room,
        "m.room.member",
        {"membership": "join", "displayname": "Alice Then", "avatar_url": "mxc://x/a"},
        alice.user_id,
    )
    await bob.join(room)
    sent = [await alice.send(room, f"plain {i}") for i in range(4)]
    hit = await bob.send(room, "pistachio here")
    sent += [await alice.send(room, f"plain {i}") for i in range(4, 8)]
    # Profiles are historic: alice renames after the hit.
    await alice.put_state(
        room, "m.room.member", {"membership": "join", "displayname": "Alice Now"}, alice.user_id
    )
    context_request = {"before_limit": 2, "after_limit": 3, "include_profile": True}
    found = await search(alice, "pistachio", event_context=context_request)
    assert ids(found) == [hit]
    context = found["results"][0]["context"]
    # Before: newest first (as /context gives it); after: oldest first.
    assert [e["event_id"] for e in context["events_before"]] == [sent[3], sent[2]]
    assert [e["event_id"] for e in context["events_after"]] == sent[4:7]
    assert context["profile_info"] == {
        alice.user_id: {"displayname": "Alice Then", "avatar_url": "mxc://x/a"},
        bob.user_id: {"displayname": "bob"},  # the default display name: the localpart
    }
    # The tokens continue with /messages.
    older = (await alice.messages(room, dir="b", limit=1, **{"from": context["start"]})).ok()
    assert [e["event_id"] for e in older["chunk"]] == [sent[1]]
    newer = (await alice.messages(room, dir="f", limit=1, **{"from": context["end"]})).ok()
    assert [e["event_id"] for e in newer["chunk"]] == [sent[7]]
    # Defaults: five each way, no profiles.
    found = await search(alice, "pistachio", event_context={})
    context = found["results"][0]["context"]
    assert len(context["events_before"]) == 5 and len(context["events_after"]) == 5
    assert "profile_info" not in context
    # Zero context is allowed.
    found = await search(alice, "pistachio", event_context={"before_limit": 0, "after_limit": 0})
    context = found["results"][0]["context"]
    assert context["events_before"] == [] and context["events_after"] == []
    # A user who left gets no context from after their leave.
    await bob.leave(room)
    await alice.send(room, "plain after bob")
    found = await search(bob, "pistachio", event_context={"after_limit": 50})
    after = [e["content"].get("body") for e in found["results"][0]["context"]["events_after"]]
    assert "plain after bob" not in after and after[:4] == [
        "plain 4",
        "plain 5",
        "plain 6",
        "plain 7",
    ]


async def check_filters(alice: User, bob: User) -> None:
    first = await alice.create_room(preset="public_chat", name="Mango room")
    second = await alice.create_room(preset="public_chat")
    await bob.join(first)
    await bob.join(second)
    a1 = await alice.send(first, "mango one")
    b1 = await bob.send(first, "mango two")
    a2 = await alice.send(second, "mango three")

    async def found(**flt: Any) -> set[str]:
        return set(ids(await search(bob, "mango", filter=flt, keys=["content.body"])))

    assert await found() == {a1, b1, a2}
    assert await found(senders=[alice.user_id]) == {a1, a2}
    assert await found(not_senders=[alice.user_id]) == {b1}
    assert await found(rooms=[first]) == {a1, b1}
    assert await found(not_rooms=[first]) == {a2}
    assert await found(rooms=[first], senders=[bob.user_id]) == {b1}
    assert await found(rooms=[]) == set()
    assert await found(types=["m.room.name"]) == set()
    names = await search(bob, "mango", filter={"types": ["m.room.name"]})
    assert [r["result"]["type"] for r in names["results"]] == ["m.room.name"]
    assert len(ids(await search(bob, "mango", filter={"not_types": ["m.room.*"]}))) == 0
    assert len(ids(await search(bob, "mango", filter={"limit": 2}))) == 2
    counted = await search(bob, "mango", filter={"senders": [alice.user_id]})
    assert counted["count"] == 3  # two messages and the room name


async def check_groups_and_state(alice: User, bob: User) -> None:
    first = await alice.create_room(preset="public_chat")
    second = await alice.create_room(preset="public_chat")
    await bob.join(first)
    a1 = await alice.send(first, "lychee 1")
    a2 = await alice.send(second, "lychee 2")
    b1 = await bob.send(first, "lychee 3")
    a3 = await alice.send(first, "lychee 4")
    groupings = {"group_by": [{"key": "room_id"}, {"key": "sender"}]}
    found = await search(alice, "lychee", order_by="recent", groupings=groupings)
    assert ids(found) == [a3, b1, a2, a1]
    by_room = found["groups"]["room_id"]
    assert by_room[first] == {"order": 1, "results": [a3, b1, a1]}
    assert by_room[second] == {"order": 2, "results": [a2]}
    by_sender = found["groups"]["sender"]
    assert by_sender[alice.user_id] == {"order": 1, "results": [a3, a2, a1]}
    assert by_sender[bob.user_id] == {"order": 2, "results": [b1]}
    # A page: groups with more results after it carry a next_batch for that group.
    page = await search(
        alice, "lychee", order_by="recent", groupings=groupings, filter={"limit": 2}
    )
    assert ids(page) == [a3, b1] and "next_batch" in page
    assert set(page["groups"]["room_id"]) == {first}
    room_group = page["groups"]["room_id"][first]
    assert room_group["results"] == [a3, b1] and "next_batch" in room_group
    assert "next_batch" not in page["groups"]["sender"][bob.user_id]
    more = await search(
        alice,
        "lychee",
        order_by="recent",
        groupings=groupings,
        filter={"limit": 2},
        next_batch=room_group["next_batch"],
    )
    assert ids(more) == [a1] and "next_batch" not in more
    # include_state: each result room's current state.
    found = await search(alice, "lychee", include_state=True)
    assert set(found["state"]) == {first, second}
    types = {e["type"] for e in found["state"][first]}
    assert {"m.room.create", "m.room.member", "m.room.power_levels"} <= types
    assert "state" not in await search(alice, "lychee")


async def test_context_filters_groups(alice: User, bob: User) -> None:
    await check_context(alice, bob)
    await check_filters(alice, bob)
    await check_groups_and_state(alice, bob)


# ---------------------------------------------------------------- redactions, errors


def _indexed(txn: Txn, event_id: str) -> bool:
    column = "stream_ordering" if txn.dialect == "postgres" else "rowid"
    row = txn.fetchone(
        f"SELECT 1 FROM event_search WHERE {column} ="
        " (SELECT stream_ordering FROM events WHERE event_id = ?)",
        (event_id,),
    )
    return row is not None


async def test_redacted_messages_are_no_longer_found(
    server: Server, alice: User, bob: User
) -> None:
    db = server.app[STORE_KEY].db
    room = await alice.create_room(preset="public_chat", name="Durian den")
    await bob.join(room)
    kept = await alice.send(room, "durian kept")
    gone = await bob.send(room, "durian regret")
    assert (await search(alice, "durian"))["count"] == 3
    assert await db.read(_indexed, gone)
    redaction = await bob.call("PUT", f"/rooms/{q(room)}/redact/{q(gone)}/r1", {})
    assert redaction.status == 200
    # The text is gone from the index itself (not only hidden from results).
    assert not await db.read(_indexed, gone) and await db.read(_indexed, kept)
    found = await search(alice, "durian", keys=["content.body"])
    assert ids(found) == [kept] and found["count"] == 1
    assert ids(await search(alice, "regret")) == []
    # In context, the redacted event shows as redacted, with the redaction in unsigned.
    found = await search(alice, "kept", event_context={"after_limit": 1})
    (shown,) = found["results"][0]["context"]["events_after"]
    assert shown["event_id"] == gone and shown["content"] == {}
    assert shown["unsigned"]["redacted_because"]["event_id"] == redaction.body["event_id"]
    # A redacted room name is no longer found either.
    name_event = (await search(alice, "den"))["results"][0]["result"]["event_id"]
    assert (await alice.call("PUT", f"/rooms/{q(room)}/redact/{q(name_event)}/r2", {})).ok()
    assert (await search(alice, "den"))["count"] == 0
    # A refused redaction (bob may not redact alice's message) removes nothing.
    refused = await bob.call("PUT", f"/rooms/{q(room)}/redact/{q(kept)}/r3", {})
    assert refused.status == 403
    assert ids(await search(alice, "durian")) == [kept]


async def test_bad_requests(alice: User) -> None:
    room = await alice.create_room()
    event_id = await alice.send(room, "guava")

    async def refused(room_events: Any = None, **kwargs: Any) -> str | None:
        reply = await raw_search(alice, room_events, **kwargs)
        assert reply.status == 400, reply
        return reply.errcode

    assert await refused(body={}) == "M_BAD_JSON"
    assert await refused(body={"search_categories": []}) == "M_BAD_JSON"
    assert await refused(body={"search_categories": {}}) == "M_BAD_JSON"
    assert await refused(body={"search_categories": {"room_events": "x"}}) == "M_BAD_JSON"
    unknown = {"search_categories": {"room_events": {"search_term": "guava"}, "people": {}}}
    assert await refused(body=unknown) == "M_INVALID_PARAM"
    assert await refused(body={"search_categories": {"people": {}}}) == "M_INVALID_PARAM"
    assert await refused({}) == "M_BAD_JSON"
    assert await refused({"search_term": 5}) == "M_BAD_JSON"
    for criteria, errcode in (
        ({"keys": "content.body"}, "M_BAD_JSON"),
        ({"keys": ["content.sender"]}, "M_INVALID_PARAM"),
        ({"order_by": "oldest"}, "M_INVALID_PARAM"),
        ({"order_by": 1}, "M_BAD_JSON"),
        ({"filter": []}, "M_BAD_JSON"),
        ({"filter": {"limit": 0}}, "M_INVALID_PARAM"),
        ({"filter": {"limit": "ten"}}, "M_BAD_JSON"),
        ({"filter": {"senders": "x"}}, "M_BAD_JSON"),
        ({"event_context": {"before_limit": -1}}, "M_INVALID_PARAM"),
        ({"event_context": {"after_limit": "5"}}, "M_BAD_JSON"),
        ({"event_context": {"include_profile": "yes"}}, "M_BAD_JSON"),
        ({"event_context": 5}, "M_BAD_JSON"),
        ({"include_state": 1}, "M_BAD_JSON"),
        ({"groupings": {"group_by": [{"key": "type"}]}}, "M_INVALID_PARAM"),
        ({"groupings": {"group_by": ["room_id"]}}, "M_BAD_JSON"),
        ({"groupings": {"group_by": {"key": "room_id"}}}, "M_BAD_JSON"),
    ):
        assert await refused({"search_term": "guava", **criteria}) == errcode, criteria
    for token in ("garbage!", "e30", "bm90IGpzb24", "eyJvIjoicmFuayJ9"):
        assert await refused({"search_term": "guava"}, next_batch=token) == "M_INVALID_PARAM"
    not_json = await alice.call("POST", "/search", raw=b"{nope")
    assert not_json.status == 400 and not_json.errcode == "M_NOT_JSON"
    anonymous = await alice.call(
        "POST",
        "/search",
        {"search_categories": {"room_events": {"search_term": "guava"}}},
        auth=False,
    )
    assert anonymous.status == 401 and anonymous.errcode == "M_MISSING_TOKEN"
    # None of it changed anything; r0 answers the same.
    assert ids(await search(alice, "guava")) == [event_id]
    reply = await alice.call(
        "POST",
        "/_matrix/client/r0/search",
        {"search_categories": {"room_events": {"search_term": "guava"}}},
    )
    assert ids(reply.ok()["search_categories"]["room_events"]) == [event_id]


def _reindex_as_the_migration_does(txn: Txn) -> None:
    txn.execute("DELETE FROM event_search")
    sql = next(text for number, _, text in migration_files() if number == 10)
    for statement in render(sql, txn.dialect):
        if "INSERT INTO event_search" in statement:
            txn.execute(statement)


async def test_the_migration_indexes_events_persisted_before_it(
    server: Server, alice: User
) -> None:
    room = await alice.create_room(name="Loquat Bay", topic="Loquat season")
    kept = await alice.send(room, "Loquat jam, alice@example.org!")
    gone = await alice.send(room, "loquat redacted")
    assert (await alice.call("PUT", f"/rooms/{q(room)}/redact/{q(gone)}/r1", {})).ok()
    await alice.send(room, "loquat", event_type="org.example.custom")
    # The backfill does not index text after a \u0000 (SQLite's json_extract ends the
    # text there; PostgreSQL's jsonb refuses it, and the event is passed over).
    nul = await alice.send(room, "nul\u0000byte")
    assert ids(await search(alice, "byte")) == [nul]
    before = await search(alice, "loquat", order_by="recent")
    db = server.app[STORE_KEY].db
    await db.write(_reindex_as_the_migration_does)
    after = await search(alice, "loquat", order_by="recent")
    assert ids(after) == ids(before) and after["count"] == 3
    assert ids(await search(alice, "example")) == [kept]
    assert ids(await search(alice, "redacted")) == []
    assert ids(await search(alice, "byte")) == []
