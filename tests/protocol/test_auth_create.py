"""Rule 1: m.room.create, per room version. spec: rooms/v1 .. v12 auth rule 1."""

from __future__ import annotations

from typing import Any

import pytest

from homeserver.protocol.room_versions import RoomVersion

from .auth_expect import allowed, rejected, version_params
from .room_builder import ALICE, RoomBuilder, standard_room

ALL = version_params()
V1_TO_V11 = version_params(lambda v: not v.room_id_from_create_event)
V1_TO_V10 = version_params(lambda v: not v.implicit_room_creator)
V11_PLUS = version_params(lambda v: v.implicit_room_creator)
V12 = version_params(lambda v: v.privileged_creators)


def _create(version: RoomVersion, content: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    room = RoomBuilder(version)
    if content is None:
        content = room.create_content()
    if version.room_id_from_create_event:
        kwargs.setdefault("omit_room_id", True)
    return room.make(
        "m.room.create", ALICE, content, "", prev=kwargs.pop("prev", []), auth=[], **kwargs
    )


@pytest.mark.parametrize("version", ALL)
def test_valid_create_is_allowed(version: RoomVersion) -> None:
    allowed(_create(version), {})


@pytest.mark.parametrize("version", ALL)
def test_1_1_create_with_prev_events_is_rejected(version: RoomVersion) -> None:
    # spec: rule 1.1 "If it has any prev_events, reject."
    fake_prev = "$prev:a.example" if version.event_id_in_event else "$" + "A" * 43
    rejected(_create(version, prev=[fake_prev]), {}, "1.1")


@pytest.mark.parametrize("version", V1_TO_V11)
def test_1_2_room_id_domain_must_match_sender_domain(version: RoomVersion) -> None:
    # spec: v1-v11 rule 1.2
    allowed(_create(version, room_id="!x:a.example"), {})
    rejected(_create(version, room_id="!x:elsewhere.example"), {}, "1.2")
    rejected(_create(version, room_id="!nodomain"), {}, "1.2")


@pytest.mark.parametrize("version", V12)
def test_1_2_v12_create_must_not_have_room_id(version: RoomVersion) -> None:
    # spec: rooms/v12 rule 1.2 "If the event has a room_id, reject."
    rejected(_create(version, omit_room_id=False, room_id="!x:a.example"), {}, "1.2")


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("room_version", ["99", 5, None, ["1"], ""])
def test_1_3_unknown_room_version_is_rejected(version: RoomVersion, room_version: Any) -> None:
    content = RoomBuilder(version).create_content(room_version=room_version)
    rejected(_create(version, content), {}, "1.3")


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("room_version", ["1", "9", "12"])
def test_1_3_known_or_absent_room_version_is_allowed(
    version: RoomVersion, room_version: str
) -> None:
    content = RoomBuilder(version).create_content(room_version=room_version)
    allowed(_create(version, content), {})
    del content["room_version"]
    allowed(_create(version, content), {})


@pytest.mark.parametrize("version", V1_TO_V10)
def test_1_4_creator_is_required_up_to_v10(version: RoomVersion) -> None:
    # spec: v1-v10 rule 1.4 "If content has no creator property, reject."
    rejected(_create(version, {"room_version": version.identifier}), {}, "1.4")


@pytest.mark.parametrize("version", V11_PLUS)
def test_creator_is_not_required_from_v11(version: RoomVersion) -> None:
    # spec: rooms/v11 rule 1 no longer checks creator
    allowed(_create(version, {"room_version": version.identifier}), {})


@pytest.mark.parametrize("version", V12)
@pytest.mark.parametrize(
    "extra",
    [[], ["@bob:b.example"], ["@bob:b.example", "@carol:c.example:8448"], ["@:b.example"]],
)
def test_1_4_v12_valid_additional_creators_allowed(version: RoomVersion, extra: Any) -> None:
    content = RoomBuilder(version).create_content(additional_creators=extra)
    allowed(_create(version, content), {})


@pytest.mark.parametrize("version", V12)
@pytest.mark.parametrize(
    "extra",
    ["@bob:b.example", {"@bob:b.example": 1}, [1], ["bob"], ["@bob"], ["@bob:bad_server!"], [None]],
)
def test_1_4_v12_invalid_additional_creators_rejected(version: RoomVersion, extra: Any) -> None:
    # spec: rooms/v12 rule 1.4 — an array of strings that are valid user ids
    content = RoomBuilder(version).create_content(additional_creators=extra)
    rejected(_create(version, content), {}, "1.4")


@pytest.mark.parametrize("version", version_params(lambda v: not v.privileged_creators))
def test_additional_creators_means_nothing_before_v12(version: RoomVersion) -> None:
    content = RoomBuilder(version).create_content(additional_creators="garbage")
    allowed(_create(version, content), {})


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("state_key", ["", "x", None])
def test_1_any_later_create_event_is_rejected(version: RoomVersion, state_key: str | None) -> None:
    # spec: rule 1 applies to every event of type m.room.create, whatever its state_key;
    # in an existing room it has prev_events, so rule 1.1 rejects it even for an admin.
    room = standard_room(version)
    event = room.make("m.room.create", ALICE, room.create_content(), state_key)
    rejected(event, room.state, "1.1")
