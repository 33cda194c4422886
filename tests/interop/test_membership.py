"""Membership across federation: invites both ways (accepted and rejected), leave, kick
and ban, from either server; ``joined_members`` agree at the end."""

from __future__ import annotations

from .client import JsonDict, MxUser, q, room_section, wait_until
from .conftest import Pair
from .test_room_events import assert_members_agree, shared_room


def membership_of(user: MxUser, room: str, member: MxUser) -> str | None:
    content = user.get_state(room, "m.room.member", member.user_id)
    return content.get("membership") if content else None


def wait_membership(user: MxUser, room: str, member: MxUser, membership: str) -> None:
    wait_until(
        lambda: membership_of(user, room, member) == membership,
        f"{member.user_id} {membership} as seen by {user}",
    )


def own_membership(user: MxUser, room: str, membership: str, sender: MxUser) -> JsonDict:
    """Wait for ``user``'s own membership event of that kind in /sync (a banned user may
    not read the room's state any more, so this is how a client learns of it)."""

    def check(batch: JsonDict) -> JsonDict | None:
        for section in ("join", "leave", "invite"):
            for ev in room_section(batch, room, section).get("timeline", {}).get("events", []):
                if (
                    ev.get("type") == "m.room.member"
                    and ev.get("state_key") == user.user_id
                    and ev.get("content", {}).get("membership") == membership
                    and ev.get("sender") == sender.user_id
                ):
                    return ev  # type: ignore[no-any-return]
        return None

    return user.sync_until(check, f"{user.user_id} {membership} in {room}")


def invited(room: str):  # type: ignore[no-untyped-def]
    def check(batch: JsonDict) -> JsonDict | None:
        return room_section(batch, room, "invite") or None

    return check


def test_invites_both_ways(pair: Pair, room_version: str) -> None:
    alice = MxUser.register(pair.a, "alice")
    bob = MxUser.register(pair.b, "bob")
    for inviter, invitee in ((alice, bob), (bob, alice)):
        room = inviter.create_room(preset="private_chat", room_version=room_version)
        inviter.membership_call(room, "invite", user_id=invitee.user_id)
        invite = invitee.sync_until(invited(room), f"invite to {room}")
        # the stripped state names the inviter and the room's creator
        stripped = invite["invite_state"]["events"]
        assert any(
            ev["type"] == "m.room.member" and ev["state_key"] == invitee.user_id for ev in stripped
        ), stripped
        assert invitee.join(room, via=inviter.server_name) == room
        wait_membership(inviter, room, invitee, "join")
        text = invitee.send_text(room, f"thanks {inviter.user_id}")
        inviter.wait_for_event(room, text)
        assert_members_agree(room, inviter, invitee)


def test_rejected_invite(pair: Pair, room_version: str) -> None:
    alice = MxUser.register(pair.a, "alice")
    bob = MxUser.register(pair.b, "bob")
    room = alice.create_room(preset="private_chat", room_version=room_version)
    alice.membership_call(room, "invite", user_id=bob.user_id)
    bob.sync_until(invited(room), f"invite to {room}")
    bob.membership_call(room, "leave")  # rejecting a remote invite: make_leave/send_leave
    wait_membership(alice, room, bob, "leave")
    assert_members_agree(room, alice)


def test_leave_kick_ban(pair: Pair, room_version: str) -> None:
    alice, bob, room = shared_room(pair, room_version)
    carol = MxUser.register(pair.a, "carol")
    carol.join(room, via=alice.server_name)
    wait_membership(bob, room, carol, "join")

    bob.membership_call(room, "leave")
    wait_membership(alice, room, bob, "leave")
    bob.join(room, via=alice.server_name)
    wait_membership(alice, room, bob, "join")

    # A kicks B's user; B sees who did it and why
    alice.membership_call(room, "kick", user_id=bob.user_id, reason="kicked")
    kick = own_membership(bob, room, "leave", sender=alice)
    assert kick["content"].get("reason") == "kicked", kick
    bob.join(room, via=alice.server_name)
    wait_membership(alice, room, bob, "join")

    # B's user, given power by A, kicks and bans A's user carol
    levels = alice.get_state(room, "m.room.power_levels")
    levels["users"][bob.user_id] = 50  # kick and ban need 50; alice (100) stays above
    bob.wait_for_event(room, alice.put_state(room, "m.room.power_levels", levels))
    bob.membership_call(room, "kick", user_id=carol.user_id)
    wait_membership(alice, room, carol, "leave")
    bob.membership_call(room, "ban", user_id=carol.user_id, reason="banned")
    wait_membership(alice, room, carol, "ban")
    status, body = carol.call(
        "POST", f"/join/{q(room)}", {}, query={"server_name": bob.server_name}
    )
    assert status == 403, body

    # A bans B's user: B cannot come back until unbanned
    alice.membership_call(room, "ban", user_id=bob.user_id)
    own_membership(bob, room, "ban", sender=alice)
    status, body = bob.call(
        "POST", f"/join/{q(room)}", {}, query={"server_name": alice.server_name}
    )
    assert status == 403, body
    alice.membership_call(room, "unban", user_id=bob.user_id)
    wait_membership(alice, room, bob, "leave")
    bob.join(room, via=alice.server_name)
    wait_membership(alice, room, bob, "join")
    assert_members_agree(room, alice, bob)
