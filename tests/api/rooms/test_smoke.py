from .conftest import User, q


async def test_create_send_read(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat", name="Pub")
    assert (await bob.join(room)).ok() == {"room_id": room}
    event_id = await bob.send(room, "hello")
    page = (await alice.messages(room, dir="b", limit=3)).ok()
    assert page["chunk"][0]["event_id"] == event_id
    assert (await alice.call("GET", f"/rooms/{q(room)}/state/m.room.name")).ok() == {"name": "Pub"}
