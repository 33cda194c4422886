"""``GET /capabilities`` (spec: client-server "Capabilities negotiation")."""

from __future__ import annotations

from homeserver.protocol.room_versions import KNOWN_ROOM_VERSIONS

from ...support.matrix_client import User


async def test_capabilities(alice: User) -> None:
    body = (await alice.call("GET", "/capabilities")).ok()
    caps = body["capabilities"]
    assert caps["m.change_password"] == {"enabled": True}
    assert caps["m.set_displayname"] == {"enabled": True}
    assert caps["m.set_avatar_url"] == {"enabled": True}
    assert caps["m.profile_fields"] == {"enabled": True}
    assert caps["m.3pid_changes"] == {"enabled": False}
    assert caps["m.get_login_token"] == {"enabled": False}
    assert caps["m.room_versions"]["default"] == "12"
    available = caps["m.room_versions"]["available"]
    assert available == {str(n): "stable" for n in range(1, 13)}
    assert set(available) == set(KNOWN_ROOM_VERSIONS)
    assert (await alice.call("GET", "/_matrix/client/r0/capabilities")).ok() == body
    reply = await alice.call("GET", "/capabilities", auth=False)
    assert (reply.status, reply.errcode) == (401, "M_MISSING_TOKEN")
