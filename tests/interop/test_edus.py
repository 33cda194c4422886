"""Ephemeral data across federation: typing notifications, read receipts and presence
(EDUs), each in both directions."""

from __future__ import annotations

from .client import JsonDict, MxUser, q, room_section
from .conftest import Pair
from .test_room_events import shared_room


def ephemeral(user: MxUser, room: str, event_type: str, check) -> JsonDict:  # type: ignore[no-untyped-def]
    def found(batch: JsonDict) -> JsonDict | None:
        for ev in room_section(batch, room).get("ephemeral", {}).get("events", []):
            if ev.get("type") == event_type and check(ev["content"]):
                return ev  # type: ignore[no-any-return]
        return None

    return user.sync_until(found, f"{event_type} in {room}")


def test_typing(pair: Pair, room_version: str) -> None:
    alice, bob, room = shared_room(pair, room_version)
    for typist, watcher in ((alice, bob), (bob, alice)):
        path = f"/rooms/{q(room)}/typing/{q(typist.user_id)}"
        typist.ok("PUT", path, {"typing": True, "timeout": 30000})
        ephemeral(watcher, room, "m.typing", lambda c, t=typist: t.user_id in c["user_ids"])
        typist.ok("PUT", path, {"typing": False})
        ephemeral(watcher, room, "m.typing", lambda c, t=typist: t.user_id not in c["user_ids"])


def test_read_receipts(pair: Pair, room_version: str) -> None:
    alice, bob, room = shared_room(pair, room_version)
    for sender, reader in ((alice, bob), (bob, alice)):
        event_id = sender.send_text(room, "read me")
        reader.wait_for_event(room, event_id)
        reader.ok("POST", f"/rooms/{q(room)}/receipt/m.read/{q(event_id)}", {})

        def has_receipt(content: JsonDict, e: str = event_id, r: MxUser = reader) -> bool:
            return r.user_id in content.get(e, {}).get("m.read", {})

        ephemeral(sender, room, "m.receipt", has_receipt)


def test_presence(pair: Pair, room_version: str) -> None:
    alice, bob, _room = shared_room(pair, room_version)  # presence goes to servers sharing a room
    for user, watcher in ((alice, bob), (bob, alice)):
        status = f"status of {user.user_id}"
        user.ok(
            "PUT",
            f"/presence/{q(user.user_id)}/status",
            {"presence": "online", "status_msg": status},
        )

        def presence_of(batch: JsonDict, u: MxUser = user, s: str = status) -> JsonDict | None:
            for ev in batch.get("presence", {}).get("events", []):
                if ev.get("sender") == u.user_id and ev["content"].get("status_msg") == s:
                    return ev  # type: ignore[no-any-return]
            return None

        event = watcher.sync_until(presence_of, f"presence of {user.user_id}")
        assert event["content"]["presence"] == "online"
        # and the presence API of the watcher's server knows it too
        seen = watcher.ok("GET", f"/presence/{q(user.user_id)}/status")
        assert (seen["presence"], seen.get("status_msg")) == ("online", status)
