"""A device that comes back after its signaling connection dropped replaces its old
session at once, instead of others seeing it twice until the drop timeout; a moderator's
mute survives the reconnect."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.waiting import until

DROP_TIMEOUT_S = 30.0  # long: the replacement must not wait for it


@pytest.fixture
def drop_timeout() -> float:
    return DROP_TIMEOUT_S


async def test_a_device_that_comes_back_replaces_its_dropped_session(sfu, clients) -> None:
    sfu.access.moderators.add("@mod:x")
    ann, mod = await clients(), await clients()
    await ann.join("ok:@ann:x")
    await mod.join("ok:@mod:x")
    await mod.send({"type": "moderate_mute", "user_id": "@ann:x", "muted": True})
    await until(
        lambda: asyncio.sleep(0, (ann.person("@ann:x") or {}).get("server_muted")),
        "ann told she is server-muted",
        timeout=5,
    )
    first = ann.session_id
    await ann.close()  # the network blips: no leave
    await asyncio.sleep(0.2)
    assert sfu.roster.left == []  # still waiting out the drop timeout

    again = await clients()
    await again.join("ok:@ann:x")  # same user, same device
    await until(lambda: asyncio.sleep(0, sfu.roster.left), "the old session ended", timeout=5)
    assert sfu.roster.left == [("@ann:x", first)]

    def anns() -> list[str]:
        return [p["session_id"] for p in mod.participants if p["user_id"] == "@ann:x"]

    await until(lambda: asyncio.sleep(0, anns() == [again.session_id]), "one ann", timeout=5)
    # reconnecting is no way out of a moderator's mute
    assert (again.person("@ann:x") or {}).get("server_muted") is True


async def test_an_open_session_of_the_same_device_is_left_alone(sfu, clients) -> None:
    tab1, tab2, bob = await clients(), await clients(), await clients()
    await tab1.join("ok:@ann:x")
    await bob.join("ok:@bob:x")
    await tab2.join("ok:@ann:x")  # a second tab of the same login
    await until(
        lambda: asyncio.sleep(
            0,
            sorted(p["session_id"] for p in bob.participants if p["user_id"] == "@ann:x")
            == sorted([tab1.session_id, tab2.session_id]),
        ),
        "both tabs in the call",
        timeout=5,
    )
    assert sfu.roster.left == []
