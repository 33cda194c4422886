"""A peer server that joined a room sends a PDU whose signature is broken and PDUs that fail
the auth rules (a power-levels change by a user without power, a message from a
non-member): the target keeps none of them, and a valid PDU that follows is accepted."""

from __future__ import annotations

import base64

import pytest

from homeserver.protocol.signing import SigningKey

from .client import MxUser, Peer, wait_until
from .conftest import PEERS, InteropEnv
from .forging_peer import ForgingPeer
from .processes import self_signed_certificate


@pytest.fixture(
    params=[
        "synapse",
        pytest.param("concord"),
    ]
)
def target(request: pytest.FixtureRequest, interop: InteropEnv) -> Peer:
    peer = interop.peer(f"{request.param}0")
    request.node.stash[PEERS] = [peer]
    return peer


@pytest.fixture(scope="module")
def forger_key(interop: InteropEnv) -> SigningKey:
    # one key for the session: targets cache it, as they would a real server's
    return SigningKey.generate(interop.server_name("forger"), version="forger1")


def broken_signature(pdu: dict, server_name: str) -> dict:  # type: ignore[type-arg]
    """The PDU with one bit of its signature flipped (hashes and event id unchanged)."""
    sigs = {name: dict(keys) for name, keys in pdu["signatures"].items()}
    key_id, sig = next(iter(sigs[server_name].items()))
    raw = bytearray(base64.b64decode(sig + "=" * (-len(sig) % 4)))
    raw[0] ^= 1
    sigs[server_name][key_id] = base64.b64encode(bytes(raw)).decode().rstrip("=")
    return {**pdu, "signatures": sigs}


def test_forged_and_unauthorised_pdus_are_rejected(
    target: Peer, room_version: str, interop: InteropEnv, forger_key: SigningKey
) -> None:
    alice = MxUser.register(target, "alice")
    room = alice.create_room(preset="public_chat", room_version=room_version)
    cert, key = self_signed_certificate(interop.cert_dir)
    target_url = f"https://127.0.0.1:{target.server_name.rsplit(':', 1)[1]}"
    with ForgingPeer(
        interop.fed_ports["forger"],
        cert,
        key,
        target.server_name,
        target_url,
        signing_key=forger_key,
    ) as forger:
        mallory = f"@mallory:{forger.server_name}"
        forger.join(room, mallory)
        wait_until(lambda: mallory in alice.joined_members(room), "mallory's join")
        levels_before = alice.get_state(room, "m.room.power_levels")

        # (a) a message whose signature does not verify
        forged = forger.build(
            room, mallory, "m.room.message", {"msgtype": "m.text", "body": "bad sig"}, advance=False
        )
        forged_pdu = broken_signature(forged.pdu, forger.server_name)
        # (b) mallory (power 0) makes himself admin
        promote = forger.build(
            room,
            mallory,
            "m.room.power_levels",
            {**levels_before, "users": {**levels_before["users"], mallory: 100}},
            state_key="",
            advance=False,
        )
        # (c) someone who never joined speaks
        ghost = forger.build(
            room,
            f"@ghost:{forger.server_name}",
            "m.room.message",
            {"msgtype": "m.text", "body": "not a member"},
            advance=False,
        )
        forger.send_transaction([forged_pdu, promote.pdu, ghost.pdu])

        valid = forger.build(room, mallory, "m.room.message", {"msgtype": "m.text", "body": "ok"})
        results = forger.send_transaction([valid.pdu])
        assert "error" not in results.get(valid.event_id, {}), results
        seen = alice.wait_for_event(room, valid.event_id)
        assert seen["content"]["body"] == "ok"

        for rejected in (forged, promote, ghost):
            assert alice.event(room, rejected.event_id) is None, rejected.event_id
        assert alice.get_state(room, "m.room.power_levels") == levels_before
        bodies = {ev.get("content", {}).get("body") for ev in alice.messages(room)}
        assert "ok" in bodies and not bodies & {"bad sig", "not a member"}, bodies
        assert alice.joined_members(room) == {alice.user_id, mallory}
