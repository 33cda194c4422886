"""Notifications in Concord channels as users see them in ``/sync``: ``@user``
mentions (``m.mentions``) highlight only the mentioned user, a muted channel stops
counting (the push rules Element writes: a ``room`` rule with ``dont_notify`` keeps
mentions, an ``override`` rule silences everything), and the collapsed categories
kept in account data ``im.concord.ui`` reach the user's other device."""

from __future__ import annotations

from typing import Any

from ..support.matrix_client import Server, User, q

UI = "im.concord.ui"


def counts(body: dict[str, Any], room_id: str) -> tuple[int, int]:
    found = body["rooms"]["join"][room_id]["unread_notifications"]
    return found["notification_count"], found["highlight_count"]


async def channel_with(owner: User, *members: User) -> str:
    room = await owner.create_room(preset="public_chat")
    for member in members:
        (await member.join(room)).ok()
    return room


def mentions(*user_ids: str) -> dict[str, Any]:
    return {"m.mentions": {"user_ids": list(user_ids)}}


async def test_user_mention_highlights_only_the_mentioned(
    alice: User, bob: User, carol: User
) -> None:
    room = await channel_with(alice, bob, carol)
    await alice.send(room, "@bob look", **mentions(bob.user_id))
    assert counts(await bob.sync(), room) == (1, 1)
    assert counts(await carol.sync(), room) == (1, 0)
    only = (await bob.call("GET", "/notifications", params={"only": "highlight"})).ok()
    assert [n["event"]["content"]["body"] for n in only["notifications"]] == ["@bob look"]


async def test_muting_a_channel(alice: User, bob: User, carol: User) -> None:
    muted = await channel_with(alice, bob, carol)
    loud = await channel_with(alice, bob)
    # "Mentions only": a room rule that does not notify.
    rule = f"/pushrules/global/room/{q(muted)}"
    (await bob.call("PUT", rule, {"actions": ["dont_notify"]})).ok()
    await alice.send(muted, "chatter")
    await alice.send(loud, "chatter")
    body = await bob.sync()
    assert counts(body, muted) == (0, 0)
    assert counts(body, loud) == (1, 0)
    await carol.send(muted, "@bob here", **mentions(bob.user_id))
    assert counts(await bob.sync(), muted) == (1, 1)
    # Mute entirely: an override rule on the room beats the mention rules.
    (await bob.call("DELETE", rule)).ok()
    override = f"/pushrules/global/override/{q(muted)}"
    condition = {"kind": "event_match", "key": "room_id", "pattern": muted}
    (await bob.call("PUT", override, {"actions": [], "conditions": [condition]})).ok()
    before = counts(await bob.sync(), muted)
    await carol.send(muted, "@bob again", **mentions(bob.user_id))
    await alice.send(muted, "more chatter")
    assert counts(await bob.sync(), muted) == before
    # Carol, who muted nothing, is notified of what came after her own message.
    assert counts(await carol.sync(), muted) == (1, 0)
    # Unmuted: counting again.
    (await bob.call("DELETE", override)).ok()
    await alice.send(muted, "back")
    assert counts(await bob.sync(), muted) == (before[0] + 1, before[1])


async def test_collapsed_categories_sync_to_the_other_device(server: Server, alice: User) -> None:
    laptop = alice
    login = (await server.login("alice")).ok()
    phone = User(server.http, alice.user_id, login["access_token"], login["device_id"])
    assert phone.device_id != laptop.device_id
    since = (await phone.sync())["next_batch"]
    ui = {"collapsed_categories": {"!guild:test.local": ["voice", "archive"]}}
    path = f"/user/{q(alice.user_id)}/account_data/{UI}"
    (await laptop.call("PUT", path, ui)).ok()
    body = await phone.sync(since, timeout=5000)
    events = [e for e in body["account_data"]["events"] if e["type"] == UI]
    assert events == [{"type": UI, "content": ui}]
    # A fresh login (initial sync) has it too; expanding one again updates both.
    ui["collapsed_categories"]["!guild:test.local"] = ["archive"]
    (await phone.call("PUT", path, ui)).ok()
    initial = await laptop.sync()
    events = [e for e in initial["account_data"]["events"] if e["type"] == UI]
    assert events == [{"type": UI, "content": ui}]
