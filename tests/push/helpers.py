"""Helpers for push tests: waiting for the push rule evaluator, rooms with members."""

from __future__ import annotations

from homeserver.appkeys import PIPELINE_KEY, PUSH_KEY

from ..support.matrix_client import Server, User


async def evaluated(server: Server) -> None:
    """Every event sent so far has been through the push rules."""
    evaluator = server.app[PUSH_KEY].evaluator
    assert await evaluator.wait_for(server.app[PIPELINE_KEY].persisted_upto, timeout=10)


async def room_with(owner: User, *members: User, **create: object) -> str:
    room_id = await owner.create_room(**create)
    for member in members:
        (await owner.invite(room_id, member.user_id)).ok()
        (await member.join(room_id)).ok()
    return room_id


def mention(*user_ids: str) -> dict[str, object]:
    return {"m.mentions": {"user_ids": list(user_ids)}}
