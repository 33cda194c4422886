"""Push rules on live events: who is notified, highlights, muted rooms,
``GET /notifications`` and the unread counts ``/sync`` will show.

spec: client-server "Server behaviour" (rules run for each local member but the sender),
"Predefined Rules" (intentional mentions), "Listing Notifications", "Receiving
notifications" (unread counts after the read receipt).
"""

from __future__ import annotations

from typing import Any

from homeserver.appkeys import PIPELINE_KEY, PUSH_KEY, STORE_KEY
from homeserver.storage.push_actions_store import unread_counts

from ..support.matrix_client import Server, User, q
from .helpers import evaluated, mention, room_with


async def notifications(user: User, **params: str) -> dict[str, Any]:
    body: dict[str, Any] = (await user.call("GET", "/notifications", params=params)).ok()
    return body


async def counts(
    server: Server, user: User, room_ids: list[str], receipts: dict[str, int] | None = None
) -> dict[str, tuple[int, int]]:
    await evaluated(server)
    db = server.app[STORE_KEY].db
    return await db.read(unread_counts, user.user_id, room_ids, receipts)


async def test_messages_mentions_and_counts(
    server: Server, alice: User, bob: User, carol: User
) -> None:
    room = await room_with(alice, bob, carol)
    plain = await bob.send(room, "hello all")
    highlighted = await bob.send(room, "look", **mention(alice.user_id))
    await alice.send(room, "my own message")
    await evaluated(server)

    listed = (await notifications(alice))["notifications"]
    assert [n["event"]["event_id"] for n in listed] == [highlighted, plain]  # newest first
    first = listed[0]
    assert set(first) == {"actions", "event", "read", "room_id", "ts"}
    # Alice wrote in the room after both: sending reads what came before.
    assert first["room_id"] == room and first["read"] is True
    assert isinstance(first["ts"], int)
    assert first["actions"] == [
        "notify",
        {"set_tweak": "sound", "value": "default"},
        {"set_tweak": "highlight"},
    ]
    assert first["event"]["content"]["body"] == "look"
    assert first["event"]["sender"] == bob.user_id
    assert listed[1]["actions"] == ["notify"]
    only = (await notifications(alice, only="highlight"))["notifications"]
    assert [n["event"]["event_id"] for n in only] == [highlighted]
    # Nobody is notified of their own events: alice's message is in bob's list, not hers.
    bobs = (await notifications(bob))["notifications"]
    assert [n["event"]["content"].get("body") for n in bobs] == ["my own message", None]
    assert bobs[1]["event"]["type"] == "m.room.member"  # his invite
    # Carol was not mentioned: a plain notification for each message.
    carols = [
        n for n in (await notifications(carol))["notifications"] if n["actions"] == ["notify"]
    ]
    assert len(carols) == 3
    assert not (await notifications(carol, only="highlight"))["notifications"]

    assert await counts(server, alice, [room]) == {room: (2, 1)}
    assert await counts(server, carol, [room, "!other:test.local"]) == {
        room: (4, 0),  # her invite and the three messages
        "!other:test.local": (0, 0),
    }
    # After a read receipt at the plain message only the mention is unread.
    position = (await server.app[STORE_KEY].events.get_event(plain)).stream_ordering  # type: ignore[union-attr]
    assert await counts(server, alice, [room], {room: position}) == {room: (1, 1)}


async def test_pagination_and_bad_parameters(server: Server, alice: User, bob: User) -> None:
    room = await room_with(alice, bob)
    sent = [await bob.send(room, f"m{i}") for i in range(5)]
    await evaluated(server)
    page = await notifications(alice, limit="2")
    got = [n["event"]["event_id"] for n in page["notifications"]]
    while "next_token" in page:
        page = await notifications(alice, limit="2", **{"from": page["next_token"]})
        got += [n["event"]["event_id"] for n in page["notifications"]]
    assert got == sent[::-1]
    for params in ({"from": "nope"}, {"from": "-3"}, {"limit": "x"}, {"limit": "0"}):
        reply = await alice.call("GET", "/notifications", params=params)
        assert (reply.status, reply.errcode) == (400, "M_INVALID_PARAM"), params
    assert (await alice.call("GET", "/notifications", auth=False)).status == 401


async def test_one_to_one_rooms_and_invites(server: Server, alice: User, bob: User) -> None:
    room = await room_with(alice, bob)
    await bob.send(room, "just us")
    other = await alice.create_room()
    (await alice.invite(other, bob.user_id)).ok()
    await evaluated(server)
    listed = (await notifications(bob))["notifications"]
    invite = listed[0]
    assert invite["event"]["type"] == "m.room.member"
    assert invite["event"]["state_key"] == bob.user_id and invite["room_id"] == other
    assert invite["actions"] == ["notify", {"set_tweak": "sound", "value": "default"}]
    # Two members: .m.rule.room_one_to_one (with a sound) for alice.
    alices = (await notifications(alice))["notifications"]
    assert alices[0]["actions"] == ["notify", {"set_tweak": "sound", "value": "default"}]
    # Joins and other member events notify nobody.
    assert all(n["event"]["type"] != "m.room.member" for n in alices)


async def test_muted_rooms(server: Server, alice: User, bob: User, carol: User) -> None:
    muted = await room_with(alice, bob, carol)
    silent = await room_with(alice, bob, carol)
    legacy = await room_with(alice, bob, carol)
    # The v1.19 way (a room rule without actions), the legacy way (dont_notify), and
    # Element's "mute everything" (an override rule on the room id).
    rules = "/pushrules/global"
    (await alice.call("PUT", f"{rules}/room/{q(muted)}", {"actions": []})).ok()
    (await alice.call("PUT", f"{rules}/room/{q(legacy)}", {"actions": ["dont_notify"]})).ok()
    override = {
        "actions": [],
        "conditions": [{"kind": "event_match", "key": "room_id", "pattern": silent}],
    }
    (await alice.call("PUT", f"{rules}/override/{q(silent)}", override)).ok()
    for room in (muted, silent, legacy):
        await bob.send(room, "chatter")
    mentioned = await bob.send(muted, "but you", **mention(alice.user_id))
    await bob.send(silent, "not even this", **mention(alice.user_id))
    await evaluated(server)
    listed = (await notifications(alice))["notifications"]
    # A mention still reaches alice in a room muted by a room rule (override rules come
    # first), but nothing from the room muted by an override rule.
    assert [n["event"]["event_id"] for n in listed] == [mentioned]
    assert await counts(server, alice, [muted, silent, legacy]) == {
        muted: (1, 1),
        silent: (0, 0),
        legacy: (0, 0),
    }
    # Carol muted nothing.
    carols = (await notifications(carol))["notifications"]
    assert sum(n["event"]["type"] == "m.room.message" for n in carols) == 5
    # Unmuted again: messages notify.
    (await alice.call("DELETE", f"{rules}/room/{q(muted)}")).ok()
    await bob.send(muted, "back")
    assert await counts(server, alice, [muted]) == {muted: (2, 1)}


async def test_master_rule_and_room_mentions(server: Server, alice: User, bob: User) -> None:
    room = await room_with(alice, bob, name="r")
    # bob has power 0 < notifications.room (50): no @room for him.
    await bob.send(room, "everyone!", **{"m.mentions": {"room": True}})
    everyone = await alice.send(room, "everyone!", **{"m.mentions": {"room": True}})
    await evaluated(server)
    bobs = (await notifications(bob, only="highlight"))["notifications"]
    assert [n["event"]["event_id"] for n in bobs] == [everyone]
    assert (await notifications(alice, only="highlight"))["notifications"] == []
    before = (await notifications(bob))["notifications"]
    master = "/pushrules/global/override/.m.rule.master/enabled"
    (await bob.call("PUT", master, {"enabled": True})).ok()
    await alice.send(room, "hello?", **mention(bob.user_id))
    await evaluated(server)
    assert (await notifications(bob))["notifications"] == before  # nothing new


async def test_evaluation_resumes_after_a_restart(server: Server, alice: User, bob: User) -> None:
    """Events committed while the evaluator was stopped are evaluated when it starts
    again, from its stored position."""
    room = await room_with(alice, bob)
    await evaluated(server)
    evaluator = server.app[PUSH_KEY].evaluator
    await evaluator.stop()
    missed = await bob.send(room, "while stopped")
    await evaluator.start(server.app[PIPELINE_KEY].persisted_upto)
    after = await bob.send(room, "after")
    await evaluated(server)
    listed = (await notifications(alice))["notifications"]
    assert [n["event"]["event_id"] for n in listed] == [after, missed]


async def test_a_rule_on_the_display_name(server: Server, alice: User, bob: User) -> None:
    """spec: "contains_display_name" — the user's display name in the room (from their
    m.room.member event), as a whole word of the body."""
    room = await room_with(alice, bob)
    (
        await alice.put_state(
            room, "m.room.member", {"membership": "join", "displayname": "Ally"}, alice.user_id
        )
    ).ok()
    rule = {
        "actions": ["notify", {"set_tweak": "highlight"}],
        "conditions": [{"kind": "contains_display_name"}],
    }
    (await alice.call("PUT", "/pushrules/global/override/name", rule)).ok()
    named = await bob.send(room, "hey ally, look")
    await bob.send(room, "Allyson is here")
    await evaluated(server)
    highlighted = (await notifications(alice, only="highlight"))["notifications"]
    assert [n["event"]["event_id"] for n in highlighted] == [named]
