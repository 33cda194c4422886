"""The user-interactive auth state machine on its own (no server, no database).

spec: client-server "User-Interactive Authentication API".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from homeserver.accounts.uia import StageFailed, UiaRequired, UserInteractiveAuth
from homeserver.errors import MatrixError

from ..conftest import FakeClock


async def ok(auth: Mapping[str, Any]) -> None:
    return None


async def needs_secret(auth: Mapping[str, Any]) -> None:
    if auth.get("secret") != "s3cret":
        raise StageFailed("M_FORBIDDEN", "wrong secret")


STAGES = {"a": ok, "b": needs_secret, "c": ok}
FLOWS = [["a", "b"], ["c"]]


async def attempt(uia: UserInteractiveAuth, auth: object, **kw: Any) -> list[str]:
    return await uia.authenticate(auth, endpoint="POST /x", flows=FLOWS, stages=STAGES, **kw)


async def test_stages_in_order_then_success() -> None:
    uia = UserInteractiveAuth(FakeClock())
    with pytest.raises(UiaRequired) as info:
        await attempt(uia, None)
    challenge = info.value.to_json()
    assert challenge["flows"] == [{"stages": ["a", "b"]}, {"stages": ["c"]}]
    assert "errcode" not in challenge and "completed" not in challenge
    session = challenge["session"]

    # b before a is out of order.
    with pytest.raises(UiaRequired) as info:
        await attempt(uia, {"type": "b", "session": session, "secret": "s3cret"})
    assert info.value.to_json()["errcode"] == "M_FORBIDDEN"

    with pytest.raises(UiaRequired) as info:
        await attempt(uia, {"type": "a", "session": session})
    assert info.value.to_json()["completed"] == ["a"]
    with pytest.raises(UiaRequired) as info:
        await attempt(uia, {"type": "b", "session": session, "secret": "nope"})
    failed = info.value.to_json()
    assert failed["errcode"] == "M_FORBIDDEN"
    assert failed["completed"] == ["a"]
    # Only the session: the state so far, unchanged.
    with pytest.raises(UiaRequired) as info:
        await attempt(uia, {"session": session})
    assert info.value.to_json()["completed"] == ["a"]
    assert await attempt(uia, {"type": "b", "session": session, "secret": "s3cret"}) == ["a", "b"]
    # A finished session is gone.
    with pytest.raises(MatrixError) as error:
        await attempt(uia, {"type": "c", "session": session})
    assert error.value.errcode == "M_UNKNOWN"


async def test_first_stage_without_session() -> None:
    uia = UserInteractiveAuth(FakeClock())
    assert await attempt(uia, {"type": "c"}) == ["c"]
    with pytest.raises(UiaRequired) as info:
        await attempt(uia, {"type": "a"})
    assert info.value.to_json()["completed"] == ["a"]


async def test_sessions_are_bound_and_expire() -> None:
    clock = FakeClock()
    uia = UserInteractiveAuth(clock, lifetime_ms=1000)
    with pytest.raises(UiaRequired) as info:
        await attempt(uia, None, user_id="@a:x")
    session = info.value.session
    with pytest.raises(MatrixError) as error:
        await attempt(uia, {"type": "c", "session": session}, user_id="@b:x")
    assert error.value.status == 403
    with pytest.raises(MatrixError) as error:
        await uia.authenticate(
            {"type": "c", "session": session},
            endpoint="POST /y",
            flows=FLOWS,
            stages=STAGES,
            user_id="@a:x",
        )
    assert error.value.status == 403
    clock.advance(1000)
    with pytest.raises(MatrixError) as error:
        await attempt(uia, {"type": "c", "session": session}, user_id="@a:x")
    assert error.value.errcode == "M_UNKNOWN"


async def test_bad_auth_shapes() -> None:
    uia = UserInteractiveAuth(FakeClock())
    for auth in ("x", {"session": 5}, {"type": 7}):
        with pytest.raises(MatrixError) as error:
            await attempt(uia, auth)
        assert error.value.errcode == "M_BAD_JSON", auth


async def test_session_count_is_bounded() -> None:
    uia = UserInteractiveAuth(FakeClock(), max_sessions=3)
    sessions = []
    for _ in range(5):
        with pytest.raises(UiaRequired) as info:
            await attempt(uia, None)
        sessions.append(info.value.session)
    with pytest.raises(MatrixError) as error:
        await attempt(uia, {"type": "c", "session": sessions[0]})
    assert error.value.errcode == "M_UNKNOWN"
    assert await attempt(uia, {"type": "c", "session": sessions[-1]}) == ["c"]
