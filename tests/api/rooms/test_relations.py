"""Event relationships over HTTP: ``/relations``, ``/threads``, bundled aggregations in
``/event``, ``/messages``, ``/context`` and ``/sync``, redactions, and the rules for
sending relations (spec: client-server "Forming relationships between events",
"Event annotations and reactions", "Event replacements", "Threading", "Reference
relations", "Rich replies")."""

from __future__ import annotations

import json
from typing import Any

from homeserver.api.client.relations import RELATIONS_KEY
from homeserver.protocol.relations import annotation_summary
from homeserver.rooms.events_view import Viewer

from ...support.matrix_client import Reply, Server, User, q

V1 = "/_matrix/client/v1"


class Sender:
    """Raw sends (no body/msgtype added) with fresh transaction ids."""

    def __init__(self) -> None:
        self.txn = 0

    async def __call__(
        self, user: User, room: str, content: dict[str, Any], event_type: str = "m.room.message"
    ) -> Reply:
        self.txn += 1
        return await user.call(
            "PUT", f"/rooms/{q(room)}/send/{q(event_type)}/rel{self.txn}", content
        )


send_raw = Sender()


async def send(
    user: User, room: str, content: dict[str, Any], event_type: str = "m.room.message"
) -> str:
    return str((await send_raw(user, room, content, event_type)).ok()["event_id"])


async def react(user: User, room: str, target: str, key: str) -> str:
    content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}}
    return await send(user, room, content, "m.reaction")


async def edit(user: User, room: str, target: str, body: str, **extra: Any) -> str:
    content = {
        "msgtype": "m.text",
        "body": f"* {body}",
        "m.new_content": {"msgtype": "m.text", "body": body},
        "m.relates_to": {"rel_type": "m.replace", "event_id": target},
        **extra,
    }
    return await send(user, room, content)


async def in_thread(user: User, room: str, root: str, body: str) -> str:
    content = {
        "msgtype": "m.text",
        "body": body,
        "m.relates_to": {"rel_type": "m.thread", "event_id": root},
    }
    return await send(user, room, content)


async def redact(user: User, room: str, event_id: str) -> None:
    send_raw.txn += 1
    reply = await user.call(
        "PUT", f"/rooms/{q(room)}/redact/{q(event_id)}/red{send_raw.txn}", {"reason": "x"}
    )
    reply.ok()


async def relations(user: User, room: str, event_id: str, *path: str, **params: Any) -> Reply:
    suffix = "".join(f"/{q(part)}" for part in path)
    return await user.call(
        "GET",
        f"{V1}/rooms/{q(room)}/relations/{q(event_id)}{suffix}",
        params={k: str(v) for k, v in params.items()},
    )


async def threads(user: User, room: str, **params: Any) -> Reply:
    return await user.call(
        "GET", f"{V1}/rooms/{q(room)}/threads", params={k: str(v) for k, v in params.items()}
    )


async def get_event(user: User, room: str, event_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await user.call("GET", f"/rooms/{q(room)}/event/{q(event_id)}")).ok()
    return body


def ids(chunk: list[dict[str, Any]]) -> list[str]:
    return [e["event_id"] for e in chunk]


def bundle(event: dict[str, Any]) -> dict[str, Any]:
    relations: dict[str, Any] = event["unsigned"].get("m.relations", {})
    return relations


async def public_room(owner: User, *members: User) -> str:
    room = await owner.create_room(preset="public_chat")
    for member in members:
        (await member.join(room)).ok()
    return room


# ---------------------------------------------------------------------- reactions


async def check_reactions(server: Server, alice: User, bob: User, carol: User) -> None:
    room = await public_room(alice, bob, carol)
    message = await alice.send(room, "react to me")
    r1 = await react(bob, room, message, "👍")
    r2 = await react(carol, room, message, "👍")
    r3 = await react(alice, room, message, "❤️")
    r4 = await react(bob, room, message, "❤️")
    # A reply in the same room is no relation /relations knows about.
    await alice.send(room, "reply", **{"m.relates_to": {"m.in_reply_to": {"event_id": message}}})

    everything = (await relations(alice, room, message)).ok()
    assert ids(everything["chunk"]) == [r4, r3, r2, r1]  # newest first
    assert "next_batch" not in everything and "prev_batch" not in everything
    assert "recursion_depth" not in everything
    reactions = (await relations(carol, room, message, "m.annotation", "m.reaction")).ok()
    assert ids(reactions["chunk"]) == [r4, r3, r2, r1]
    assert (await relations(alice, room, message, "m.annotation", "m.room.message")).ok()[
        "chunk"
    ] == []
    assert (await relations(alice, room, message, "m.reference")).ok()["chunk"] == []

    # Counts and senders per key, from /relations (the pure helper) and the handler.
    pairs = [
        (e["content"]["m.relates_to"]["key"], e["sender"]) for e in reversed(reactions["chunk"])
    ]
    expected = {
        "👍": {"count": 2, "senders": [bob.user_id, carol.user_id]},
        "❤️": {"count": 2, "senders": [alice.user_id, bob.user_id]},
    }
    assert annotation_summary(pairs) == expected
    handler = server.app[RELATIONS_KEY]
    assert await handler.annotations(Viewer(alice.user_id), room, message) == expected

    # spec: "Avoiding duplicate annotations" — a second identical reaction is refused.
    again = await send_raw(
        bob,
        room,
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": message, "key": "👍"}},
        "m.reaction",
    )
    assert (again.status, again.errcode) == (400, "M_DUPLICATE_ANNOTATION")
    # Another type with the same key is another annotation.
    other = {"m.relates_to": {"rel_type": "m.annotation", "event_id": message, "key": "👍"}}
    await send(bob, room, other, "org.example.vote")

    # Reactions are not bundled (spec: "m.annotation relationships are not aggregated").
    assert "m.annotation" not in bundle(await get_event(alice, room, message))

    # Redacting a reaction removes it from /relations and the counts; it may be sent anew.
    await redact(bob, room, r1)
    reactions = (await relations(alice, room, message, "m.annotation", "m.reaction")).ok()
    assert ids(reactions["chunk"]) == [r4, r3, r2]
    summary = await handler.annotations(Viewer(alice.user_id), room, message)
    assert summary["👍"] == {"count": 1, "senders": [carol.user_id]}
    fresh = await react(bob, room, message, "👍")
    reactions = (await relations(alice, room, message, "m.annotation", "m.reaction")).ok()
    assert ids(reactions["chunk"])[0] == fresh
    # A moderator redacting someone else's reaction breaks the relationship too.
    await redact(alice, room, r2)
    summary = await handler.annotations(Viewer(alice.user_id), room, message)
    assert summary["👍"] == {"count": 1, "senders": [bob.user_id]}

    # Annotations of annotations (or of edits) are ignored (spec: client behaviour).
    await react(alice, room, r3, "🔁")
    assert (await relations(alice, room, r3)).ok()["chunk"] == []

    # A retried send (same transaction id) is the same reaction, not a duplicate.
    path = f"/rooms/{q(room)}/send/m.reaction/retried"
    body = {"m.relates_to": {"rel_type": "m.annotation", "event_id": message, "key": "🔂"}}
    first = (await carol.call("PUT", path, body)).ok()
    assert (await carol.call("PUT", path, body)).ok() == first


async def check_pagination(alice: User) -> None:
    room = await alice.create_room()
    message = await alice.send(room, "many reactions")
    keys = [f"k{i}" for i in range(7)]
    sent = [await react(alice, room, message, key) for key in keys]
    await alice.send(room, "after")  # an unrelated event between pages is skipped

    # Backwards in pages of three, newest first; the tokens chain without overlap.
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if token is not None:
            params["from"] = token
        page = (await relations(alice, room, message, **params)).ok()
        pages += 1
        if token is not None:
            assert page["prev_batch"] == token
        seen += ids(page["chunk"])
        if "next_batch" not in page:
            break
        token = page["next_batch"]
        assert pages < 10
    assert seen == list(reversed(sent))
    assert pages == 3

    # Forwards: oldest first, in pages of four.
    first = (await relations(alice, room, message, dir="f", limit=4)).ok()
    assert ids(first["chunk"]) == sent[:4]
    rest = (
        await relations(alice, room, message, dir="f", limit=4, **{"from": first["next_batch"]})
    ).ok()
    assert ids(rest["chunk"]) == sent[4:]
    assert "next_batch" not in rest

    # A backwards token read forwards gives the same events back, in order.
    back = (await relations(alice, room, message, limit=2)).ok()
    assert ids(back["chunk"]) == [sent[6], sent[5]]
    forward = (
        await relations(alice, room, message, dir="f", limit=2, **{"from": back["next_batch"]})
    ).ok()
    assert ids(forward["chunk"]) == [sent[5], sent[6]]

    # `to` bounds a page: from page 1's start to its end gives exactly page 2.
    page1 = (await relations(alice, room, message, limit=2)).ok()
    page2 = (await relations(alice, room, message, limit=2, **{"from": page1["next_batch"]})).ok()
    bounded = (
        await relations(
            alice, room, message, limit=50, to=page2["next_batch"], **{"from": page1["next_batch"]}
        )
    ).ok()
    assert ids(bounded["chunk"]) == ids(page2["chunk"])
    assert "next_batch" not in bounded

    # Tokens of /messages and /sync work here too.
    msgs = (await alice.messages(room, dir="b", limit=3)).ok()  # "after", sent[6], sent[5]
    via_messages = (await relations(alice, room, message, limit=50, **{"from": msgs["end"]})).ok()
    assert ids(via_messages["chunk"]) == list(reversed(sent[:5]))
    sync = await alice.sync()
    via_sync = (
        await relations(alice, room, message, limit=50, **{"from": sync["next_batch"]})
    ).ok()
    assert ids(via_sync["chunk"]) == list(reversed(sent))
    assert (await relations(alice, room, message, limit=0)).ok()["chunk"] == []


async def test_reactions_and_pagination(
    server: Server, alice: User, bob: User, carol: User
) -> None:
    await check_reactions(server, alice, bob, carol)
    await check_pagination(alice)


# ---------------------------------------------------------------------- edits


async def check_edits(server: Server, alice: User, bob: User) -> None:
    room = await public_room(alice, bob)
    original = await alice.send(room, "first version")
    server.clock.advance(10)
    e1 = await edit(alice, room, original, "second version")
    server.clock.advance(10)
    e2 = await edit(alice, room, original, "third version")
    server.clock.advance(10)
    # Invalid edits: another sender, another event type, no m.new_content.
    by_bob = await edit(bob, room, original, "bob was here")
    other_type = await send(
        alice,
        room,
        {
            "m.new_content": {"body": "x"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": original},
        },
        "org.example.note",
    )
    no_new_content = await send(
        alice,
        room,
        {"body": "* y", "m.relates_to": {"rel_type": "m.replace", "event_id": original}},
    )
    # An edit of an edit is no edit (spec: "Validity of replacement events").
    edit_of_edit = await edit(alice, room, e2, "edit of an edit")

    event = await get_event(bob, room, original)
    # spec v1.7+: the most recent valid edit in full; the original content untouched.
    assert event["content"]["body"] == "first version"
    replace = bundle(event)["m.replace"]
    assert replace["event_id"] == e2
    assert replace["sender"] == alice.user_id
    assert replace["type"] == "m.room.message"
    assert replace["content"]["m.new_content"]["body"] == "third version"
    assert replace["content"]["m.relates_to"] == {"rel_type": "m.replace", "event_id": original}
    assert "origin_server_ts" in replace
    listed = ids((await relations(alice, room, original, "m.replace")).ok()["chunk"])
    assert listed == [e2, e1]
    for ignored in (by_bob, other_type, no_new_content, edit_of_edit):
        assert ignored not in listed
    assert (await relations(alice, room, e2)).ok()["chunk"] == []
    # Edits and annotations have no bundles of their own.
    assert bundle(await get_event(alice, room, e2)) == {}

    # The same bundle in /messages and /context.
    page = (await alice.messages(room, dir="b", limit=50)).ok()
    found = next(e for e in page["chunk"] if e["event_id"] == original)
    assert bundle(found)["m.replace"]["event_id"] == e2
    context = (
        await alice.call("GET", f"/rooms/{q(room)}/context/{q(original)}", params={"limit": "2"})
    ).ok()
    assert bundle(context["event"])["m.replace"]["event_id"] == e2

    # Equal timestamps: the lexicographically largest event id is the most recent.
    second = await alice.send(room, "tie")
    server.clock.advance(10)
    tied = [await edit(alice, room, second, f"tie {i}") for i in range(3)]
    assert bundle(await get_event(alice, room, second))["m.replace"]["event_id"] == max(tied)

    # Redacting the latest edit makes the one before current; then none.
    await redact(alice, room, e2)
    assert bundle(await get_event(alice, room, original))["m.replace"]["event_id"] == e1
    await redact(alice, room, e1)
    assert "m.replace" not in bundle(await get_event(alice, room, original))

    # A redacted original bundles no edit, whatever its edits.
    third = await alice.send(room, "to be redacted")
    await edit(alice, room, third, "edited")
    await redact(alice, room, third)
    redacted = await get_event(alice, room, third)
    assert redacted["content"] == {}
    assert "m.replace" not in bundle(redacted)
    # ... while its children stay listed (spec: a parent's redaction keeps them).
    assert len((await relations(alice, room, third)).ok()["chunk"]) == 1


async def check_references_and_replies(alice: User, bob: User) -> None:
    room = await public_room(alice, bob)
    target = await alice.send(room, "target")
    refs = [
        await send(
            bob,
            room,
            {"body": f"ref {i}", "m.relates_to": {"rel_type": "m.reference", "event_id": target}},
            "org.example.ref",
        )
        for i in range(2)
    ]
    event = await get_event(alice, room, target)
    assert bundle(event)["m.reference"] == {"chunk": [{"event_id": r} for r in refs]}
    assert ids((await relations(alice, room, target, "m.reference")).ok()["chunk"]) == [
        refs[1],
        refs[0],
    ]

    # Rich replies need nothing from the server: stored and served as sent, mentions too.
    content = {
        "msgtype": "m.text",
        "body": "> <@alice:test.local> target\n\nreply",
        "m.relates_to": {"m.in_reply_to": {"event_id": target}},
        "m.mentions": {"user_ids": [alice.user_id]},
    }
    reply_id = await send(bob, room, content)
    served = await get_event(alice, room, reply_id)
    assert served["content"] == content
    assert "m.relations" not in served["unsigned"]
    synced = await alice.sync(filter={"room": {"timeline": {"limit": 3}}})
    timeline = synced["rooms"]["join"][room]["timeline"]["events"]
    assert next(e for e in timeline if e["event_id"] == reply_id)["content"] == content


async def test_edits_references_replies(server: Server, alice: User, bob: User) -> None:
    await check_edits(server, alice, bob)
    await check_references_and_replies(alice, bob)


# ---------------------------------------------------------------------- threads


async def check_threads(server: Server, alice: User, bob: User, carol: User) -> None:
    room = await public_room(alice, bob, carol)
    root_a = await alice.send(room, "alice's thread")
    root_b = await bob.send(room, "bob's thread")
    await alice.send(room, "no thread here")
    a1 = await in_thread(carol, room, root_a, "carol in a")
    b1 = await in_thread(alice, room, root_b, "alice in b")
    a2 = await in_thread(carol, room, root_a, "carol again in a")

    # Newest thread activity first; a new reply moves a thread to the top.
    assert ids((await threads(alice, room)).ok()["chunk"]) == [root_a, root_b]
    b2 = await in_thread(bob, room, root_b, "bob in b")
    listed = (await threads(alice, room)).ok()
    assert ids(listed["chunk"]) == [root_b, root_a]
    assert "next_batch" not in listed

    # include=participated: roots the user sent or replied to.
    assert ids((await threads(carol, room, include="participated")).ok()["chunk"]) == [root_a]
    assert ids((await threads(bob, room, include="participated")).ok()["chunk"]) == [root_b]
    both = (await threads(alice, room, include="participated")).ok()
    assert ids(both["chunk"]) == [root_b, root_a]

    # Pages of one chain with next_batch.
    first = (await threads(alice, room, limit=1)).ok()
    assert ids(first["chunk"]) == [root_b]
    second = (await threads(alice, room, limit=1, **{"from": first["next_batch"]})).ok()
    assert ids(second["chunk"]) == [root_a]
    assert "next_batch" not in second

    # The bundled summary: latest event (with its own bundle), count, participation.
    server.clock.advance(10)
    a2_edit = await edit(carol, room, a2, "carol again in a (edited)")
    for viewer, participated in ((alice, True), (bob, False), (carol, True)):
        summary = bundle(await get_event(viewer, room, root_a))["m.thread"]
        assert summary["count"] == 2
        assert summary["current_user_participated"] is participated
        latest = summary["latest_event"]
        assert latest["event_id"] == a2
        assert latest["content"]["body"] == "carol again in a"
        assert bundle(latest)["m.replace"]["event_id"] == a2_edit
    summary_b = bundle(await get_event(carol, room, root_b))["m.thread"]
    assert (summary_b["count"], summary_b["latest_event"]["event_id"]) == (2, b2)
    assert summary_b["current_user_participated"] is False
    # /threads serves the roots with their bundles.
    roots = (await threads(carol, room)).ok()["chunk"]
    assert bundle(roots[1])["m.thread"]["latest_event"]["event_id"] == a2

    # The thread's events through /relations, and recursion to the edit of a reply.
    direct = (await relations(alice, room, root_a)).ok()
    assert ids(direct["chunk"]) == [a2, a1]
    deep = (await relations(alice, room, root_a, recurse="true")).ok()
    assert ids(deep["chunk"]) == [a2_edit, a2, a1]
    assert deep["recursion_depth"] == 3
    unstable = (await relations(alice, room, root_a, **{"org.matrix.msc3981.recurse": "true"})).ok()
    assert ids(unstable["chunk"]) == [a2_edit, a2, a1]
    flat = (await relations(alice, room, root_a, recurse="false")).ok()
    assert (ids(flat["chunk"]), flat["recursion_depth"]) == ([a2, a1], 1)
    # Filters apply at every level: the edit relates through a thread event, not m.thread.
    only_threads = (await relations(alice, room, root_a, "m.thread", recurse="true")).ok()
    assert ids(only_threads["chunk"]) == [a2, a1]
    deep_pages = (await relations(alice, room, root_a, recurse="true", limit=2)).ok()
    assert ids(deep_pages["chunk"]) == [a2_edit, a2]
    rest = (
        await relations(
            alice, room, root_a, recurse="true", limit=2, **{"from": deep_pages["next_batch"]}
        )
    ).ok()
    assert ids(rest["chunk"]) == [a1]

    # A thread cannot start from an event with a relation (spec: 400 M_UNKNOWN).
    refused = await send_raw(
        alice, room, {"body": "x", "m.relates_to": {"rel_type": "m.thread", "event_id": a1}}
    )
    assert (refused.status, refused.errcode) == (400, "M_UNKNOWN")

    # Redacting the latest reply moves the summary back; the last reply ends the thread.
    await redact(carol, room, a2)
    summary = bundle(await get_event(alice, room, root_a))["m.thread"]
    assert (summary["count"], summary["latest_event"]["event_id"]) == (1, a1)
    assert ids((await threads(alice, room)).ok()["chunk"]) == [root_b, root_a]
    await redact(carol, room, a1)
    assert "m.thread" not in bundle(await get_event(alice, room, root_a))
    assert ids((await threads(alice, room)).ok()["chunk"]) == [root_b]
    assert b1 in ids((await relations(alice, room, root_b, "m.thread")).ok()["chunk"])


async def test_threads(server: Server, alice: User, bob: User, carol: User) -> None:
    await check_threads(server, alice, bob, carol)


# ---------------------------------------------------------------------- sync


async def check_sync_bundles(alice: User) -> None:
    room = await alice.create_room()
    original = await alice.send(room, "original")
    edit_id = await edit(alice, room, original, "edited")
    await alice.send(room, "later")
    # A limited timeline carries the bundle (spec: /sync "when ... limited").
    limited = await alice.sync(filter={"room": {"timeline": {"limit": 3}}})
    timeline = limited["rooms"]["join"][room]["timeline"]
    assert timeline["limited"] is True
    assert ids(timeline["events"]) == [original, edit_id, ids(timeline["events"])[2]]
    assert bundle(timeline["events"][0])["m.replace"]["event_id"] == edit_id
    assert "room_id" not in bundle(timeline["events"][0])["m.replace"]
    # An incremental sync that is not limited holds the children: no bundle needed.
    message = await alice.send(room, "new")
    second_edit = await edit(alice, room, message, "new, edited")
    delta = await alice.sync(since=limited["next_batch"])
    timeline = delta["rooms"]["join"][room]["timeline"]
    assert timeline["limited"] is False
    assert ids(timeline["events"]) == [message, second_edit]
    assert "m.relations" not in timeline["events"][0]["unsigned"]


async def test_sync_bundles(alice: User) -> None:
    await check_sync_bundles(alice)


# ---------------------------------------------------------------------- access and errors


async def check_visibility(server: Server, alice: User, bob: User) -> None:
    room = await alice.create_room(preset="private_chat")
    message = await alice.send(room, "secret")
    await react(alice, room, message, "🤫")
    outsider = await relations(bob, room, message)
    assert (outsider.status, outsider.errcode) == (403, "M_FORBIDDEN")
    assert (await threads(bob, room)).status == 403
    assert (await relations(bob, "!nowhere:test.local", message)).status == 403
    unknown = await relations(alice, room, "$unknown")
    assert (unknown.status, unknown.errcode) == (404, "M_NOT_FOUND")
    # A parent in another room is not found in this one.
    other = await alice.create_room()
    assert (await relations(alice, other, message)).status == 404
    # Joined later under `joined` visibility: the earlier parent is hidden (404).
    await alice.put_state(room, "m.room.history_visibility", {"history_visibility": "joined"})
    hidden = await alice.send(room, "before bob")
    await react(alice, room, hidden, "👀")
    (await alice.invite(room, bob.user_id)).ok()
    (await bob.join(room)).ok()
    assert (await relations(bob, room, hidden)).status == 404
    assert (await relations(alice, room, hidden)).ok()["chunk"] != []
    # After leaving, a user no longer sees children sent after the leave.
    visible = await alice.send(room, "bob sees this")
    early = await react(alice, room, visible, "1")
    (await bob.leave(room)).ok()
    await react(alice, room, visible, "2")
    assert ids((await relations(bob, room, visible)).ok()["chunk"]) == [early]


async def check_bad_input(alice: User, bob: User) -> None:
    room = await public_room(alice, bob)
    message = await alice.send(room, "x")
    for params in (
        {"dir": "x"},
        {"limit": "ten"},
        {"limit": "-1"},
        {"from": "garbage"},
        {"to": "garbage"},
        {"recurse": "maybe"},
    ):
        reply = await relations(alice, room, message, **params)
        assert (reply.status, reply.errcode) == (400, "M_INVALID_PARAM"), params
    assert (await relations(alice, room, "no-dollar")).status == 400
    assert (await relations(alice, "not-a-room", message)).status == 400
    for params in ({"include": "some"}, {"limit": "0"}, {"limit": "x"}, {"from": "garbage"}):
        reply = await threads(alice, room, **params)
        assert (reply.status, reply.errcode) == (400, "M_INVALID_PARAM"), params
    assert (await threads(alice, "not-a-room")).status == 400
    unauthenticated = await alice.call(
        "GET", f"{V1}/rooms/{q(room)}/relations/{q(message)}", auth=False
    )
    assert unauthenticated.status == 401

    # Sending relations the server refuses changes nothing.
    before = ids((await alice.messages(room, dir="b", limit=50)).ok()["chunk"])
    other_room = await alice.create_room()
    elsewhere = await alice.send(other_room, "elsewhere")
    for content, event_type, errcode in (
        (
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": message}},
            "m.reaction",
            "M_BAD_JSON",
        ),
        (
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$nope", "key": "k"}},
            "m.reaction",
            "M_UNKNOWN",
        ),
        (
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": elsewhere, "key": "k"}},
            "m.reaction",
            "M_UNKNOWN",
        ),
    ):
        reply = await send_raw(bob, room, content, event_type)
        assert (reply.status, reply.errcode) == (400, errcode), content
    assert ids((await alice.messages(room, dir="b", limit=50)).ok()["chunk"]) == before
    # A malformed m.relates_to is no relation: stored, never aggregated.
    odd = await send(bob, room, {"body": "odd", "m.relates_to": {"rel_type": 5}})
    assert (await get_event(alice, room, odd))["content"]["m.relates_to"] == {"rel_type": 5}
    assert (await relations(alice, room, message)).ok()["chunk"] == []


async def test_visibility_and_errors(server: Server, alice: User, bob: User) -> None:
    await check_visibility(server, alice, bob)
    await check_bad_input(alice, bob)


async def test_context_and_messages_filter_bundles(alice: User) -> None:
    """A /messages filter sees the bundles' parents only; state events get none."""
    room = await alice.create_room()
    message = await alice.send(room, "m")
    await edit(alice, room, message, "m2")
    flt = json.dumps({"types": ["m.room.message"], "not_types": []})
    page = (await alice.messages(room, dir="b", limit=50, filter=flt)).ok()
    parent = next(e for e in page["chunk"] if e["event_id"] == message)
    assert "m.replace" in bundle(parent)
    state = (await alice.call("GET", f"/rooms/{q(room)}/state")).ok()
    assert all("m.relations" not in e["unsigned"] for e in state)
