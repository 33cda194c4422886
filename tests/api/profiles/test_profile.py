"""``/profile/{userId}[/{keyName}]``: reading, setting and deleting fields, and every
error the spec names; a refused change leaves the profile as it was."""

from __future__ import annotations

from homeserver.appkeys import STORE_KEY
from homeserver.protocol.profile_fields import MAX_PROFILE_BYTES

from ...support.matrix_client import Server, User, q


def profile_path(user_id: str, key: str | None = None) -> str:
    return f"/profile/{q(user_id)}" + (f"/{q(key)}" if key is not None else "")


async def get_profile(server: Server, user_id: str) -> object:
    return (await server.call("GET", profile_path(user_id))).ok()


async def check_default_display_name_is_the_localpart(server: Server, alice: User) -> None:
    # As Synapse: registration sets the display name; reading needs no token.
    assert await get_profile(server, alice.user_id) == {"displayname": "alice"}
    reply = await server.call("GET", profile_path(alice.user_id, "displayname"))
    assert reply.ok() == {"displayname": "alice"}
    reply = await server.call("GET", "/_matrix/client/r0" + profile_path(alice.user_id))
    assert reply.ok() == {"displayname": "alice"}


async def check_set_get_delete(server: Server, alice: User) -> None:
    me = alice.user_id
    assert (
        await alice.call("PUT", profile_path(me, "displayname"), {"displayname": "Alice W"})
    ).ok() == {}
    avatar = "mxc://test.local/AbC-123_x"
    assert (
        await alice.call("PUT", profile_path(me, "avatar_url"), {"avatar_url": avatar})
    ).ok() == {}
    description = {"im.concord.description": "I like tea"}
    assert (
        await alice.call("PUT", profile_path(me, "im.concord.description"), description)
    ).ok() == {}
    assert (await alice.call("PUT", profile_path(me, "m.tz"), {"m.tz": "Europe/Paris"})).ok() == {}
    # Custom fields hold any JSON, null included (stored, not a deletion).
    flair = {"org.example.flair": {"colour": "gold", "level": 3}}
    assert (await alice.call("PUT", profile_path(me, "org.example.flair"), flair)).ok() == {}
    assert (
        await alice.call(
            "PUT", profile_path(me, "org.example.nothing"), {"org.example.nothing": None}
        )
    ).ok() == {}
    # Extra keys in the body are ignored.
    assert (
        await alice.call("PUT", profile_path(me, "org.example.x"), {"org.example.x": 1, "y": 2})
    ).ok() == {}
    assert await get_profile(server, me) == {
        "displayname": "Alice W",
        "avatar_url": avatar,
        "im.concord.description": "I like tea",
        "m.tz": "Europe/Paris",
        "org.example.flair": {"colour": "gold", "level": 3},
        "org.example.nothing": None,
        "org.example.x": 1,
    }
    reply = await server.call("GET", profile_path(me, "org.example.flair"))
    assert reply.ok() == flair
    reply = await server.call("GET", profile_path(me, "org.example.nothing"))
    assert reply.ok() == {"org.example.nothing": None}

    # DELETE removes a field; deleting a missing one is fine too.
    for _ in range(2):
        reply = await alice.call("DELETE", profile_path(me, "im.concord.description"))
        assert reply.ok() == {}
    reply = await server.call("GET", profile_path(me, "im.concord.description"))
    assert (reply.status, reply.errcode) == (404, "M_NOT_FOUND")
    # An empty display name or avatar clears it (as Synapse).
    assert (await alice.call("PUT", profile_path(me, "avatar_url"), {"avatar_url": ""})).ok() == {}
    assert (
        await alice.call("PUT", profile_path(me, "displayname"), {"displayname": ""})
    ).ok() == {}
    profile = await get_profile(server, me)
    assert isinstance(profile, dict)
    assert "displayname" not in profile and "avatar_url" not in profile
    reply = await server.call("GET", profile_path(me, "displayname"))
    assert (reply.status, reply.errcode) == (404, "M_NOT_FOUND")


async def check_bad_requests_change_nothing(server: Server, alice: User, bob: User) -> None:
    me = alice.user_id
    before = await get_profile(server, me)
    cases = [
        # (method, path, body, status, errcode)
        ("PUT", profile_path(me, "displayname"), {"other": "x"}, 400, "M_MISSING_PARAM"),
        ("PUT", profile_path(me, "displayname"), {"displayname": 5}, 400, "M_INVALID_PARAM"),
        ("PUT", profile_path(me, "displayname"), {"displayname": None}, 400, "M_INVALID_PARAM"),
        (
            "PUT",
            profile_path(me, "displayname"),
            {"displayname": "x" * 300},
            400,
            "M_INVALID_PARAM",
        ),
        (
            "PUT",
            profile_path(me, "avatar_url"),
            {"avatar_url": "https://x/a.png"},
            400,
            "M_INVALID_PARAM",
        ),
        (
            "PUT",
            profile_path(me, "avatar_url"),
            {"avatar_url": "mxc://x/a/b"},
            400,
            "M_INVALID_PARAM",
        ),
        ("PUT", profile_path(me, "m.tz"), {"m.tz": 2}, 400, "M_INVALID_PARAM"),
        ("PUT", profile_path(me, "Bad Key"), {"Bad Key": 1}, 400, "M_INVALID_PARAM"),
        ("PUT", profile_path(me, "k" * 256), {"k" * 256: 1}, 400, "M_KEY_TOO_LARGE"),
        ("DELETE", profile_path(me, "Bad Key"), None, 400, "M_INVALID_PARAM"),
        ("GET", profile_path(me, "k" * 256), None, 400, "M_KEY_TOO_LARGE"),
        (
            "PUT",
            profile_path("not-a-user", "displayname"),
            {"displayname": "x"},
            400,
            "M_INVALID_PARAM",
        ),
        ("GET", profile_path("not-a-user"), None, 400, "M_INVALID_PARAM"),
        ("PUT", profile_path(me, "displayname"), [1], 400, "M_BAD_JSON"),
    ]
    for method, path, body, status, errcode in cases:
        reply = await alice.call(method, path, body)
        assert (reply.status, reply.errcode) == (status, errcode), (method, path, reply)
    reply = await alice.call("PUT", profile_path(me, "displayname"), raw=b"{not json")
    assert (reply.status, reply.errcode) == (400, "M_NOT_JSON")
    # Without a token.
    reply = await alice.call(
        "PUT", profile_path(me, "displayname"), {"displayname": "x"}, auth=False
    )
    assert (reply.status, reply.errcode) == (401, "M_MISSING_TOKEN")
    reply = await alice.call("DELETE", profile_path(me, "displayname"), auth=False)
    assert (reply.status, reply.errcode) == (401, "M_MISSING_TOKEN")
    # Someone else's profile.
    reply = await bob.call("PUT", profile_path(me, "displayname"), {"displayname": "pwned"})
    assert (reply.status, reply.errcode) == (403, "M_FORBIDDEN")
    reply = await bob.call("DELETE", profile_path(me, "displayname"))
    assert (reply.status, reply.errcode) == (403, "M_FORBIDDEN")
    reply = await bob.call(
        "PUT", profile_path("@x:elsewhere.org", "displayname"), {"displayname": "x"}
    )
    assert (reply.status, reply.errcode) == (403, "M_FORBIDDEN")
    assert await get_profile(server, me) == before


async def check_unknown_users_and_fields(server: Server, alice: User) -> None:
    for path in (
        profile_path("@nobody:test.local"),
        profile_path("@nobody:test.local", "displayname"),
        profile_path("@stranger:elsewhere.org"),
        profile_path(alice.user_id, "org.example.unset"),
        profile_path(alice.user_id, "avatar_url"),
    ):
        reply = await server.call("GET", path)
        assert (reply.status, reply.errcode) == (404, "M_NOT_FOUND"), path


async def check_profile_size_limit(server: Server, alice: User) -> None:
    me = alice.user_id
    big = "x" * (MAX_PROFILE_BYTES // 2)
    assert (
        await alice.call("PUT", profile_path(me, "org.example.a"), {"org.example.a": big})
    ).ok() == {}
    before = await get_profile(server, me)
    # A second half-profile would take the whole profile past 64 KiB.
    reply = await alice.call("PUT", profile_path(me, "org.example.b"), {"org.example.b": big})
    assert (reply.status, reply.errcode) == (400, "M_PROFILE_TOO_LARGE")
    assert await get_profile(server, me) == before
    # Replacing the big field with a small one is fine (the size is of the result).
    assert (
        await alice.call("PUT", profile_path(me, "org.example.a"), {"org.example.a": "s"})
    ).ok() == {}
    assert (
        await alice.call("PUT", profile_path(me, "org.example.b"), {"org.example.b": big})
    ).ok() == {}


async def test_profiles(server: Server, alice: User, bob: User, carol: User) -> None:
    await check_default_display_name_is_the_localpart(server, alice)
    await check_set_get_delete(server, alice)
    await check_bad_requests_change_nothing(server, bob, carol)
    await check_unknown_users_and_fields(server, alice)
    await check_profile_size_limit(server, carol)


async def test_an_admin_may_edit_a_local_users_profile(
    server: Server, alice: User, bob: User
) -> None:
    await server.app[STORE_KEY].accounts.set_admin(alice.user_id, True)
    path = profile_path(bob.user_id, "displayname")
    assert (await alice.call("PUT", path, {"displayname": "Renamed"})).ok() == {}
    assert await get_profile(server, bob.user_id) == {"displayname": "Renamed"}
    # Not a user of this server, or no such user.
    reply = await alice.call(
        "PUT", profile_path("@x:elsewhere.org", "displayname"), {"displayname": "x"}
    )
    assert (reply.status, reply.errcode) == (403, "M_FORBIDDEN")
    reply = await alice.call(
        "PUT", profile_path("@ghost:test.local", "displayname"), {"displayname": "x"}
    )
    assert (reply.status, reply.errcode) == (404, "M_NOT_FOUND")
