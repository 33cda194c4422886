"""Shared pieces of the authorization rules: rule numbering and the room state view.

The rules are numbered differently per room version (v1-v5 have the m.room.aliases
rule 4, v8 inserts the join_authorised_via_users_server rule into the membership rule,
v10 adds two power level checks, v12 inserts rule 2 and rule 10.4). Error messages cite
the number of the rule as printed for the event's room version, so ``RuleNumbers``
computes them from the version flags.

spec: rooms/fragments/v1-auth-rules, v3-auth-rules, v8-auth-rules, rooms/v10, v11, v12
"Authorization rules"; server-server "Definitions".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .errors import AuthError, InvalidIdentifier
from .events import Event
from .ids import parse_user_id
from .power_levels import INFINITE_POWER, PowerLevels, room_creators, user_power_level
from .room_versions import RoomVersion

StateKey = tuple[str, str]

CREATE = "m.room.create"
MEMBER = "m.room.member"
JOIN_RULES = "m.room.join_rules"
POWER_LEVELS = "m.room.power_levels"
THIRD_PARTY_INVITE = "m.room.third_party_invite"
ALIASES = "m.room.aliases"
REDACTION = "m.room.redaction"


@dataclass(frozen=True, slots=True)
class RuleNumbers:
    """The printed number of each top-level rule and sub-rule for one room version."""

    auth_events: int
    federate: int
    aliases: int  # 0 when the version has no m.room.aliases rule
    member: int
    sender_joined: int
    third_party_invite: int
    required_level: int
    state_key_sender: int
    power_levels: int
    redaction: int  # 0 when the version has no redaction rule
    # membership sub-rules (rule <member>.<x>)
    m_join: int
    m_invite: int
    m_leave: int
    m_ban: int
    m_knock: int
    m_unknown: int
    # join sub-rules (rule <member>.<m_join>.<x>)
    j_public: int
    j_otherwise: int
    # power level sub-rules (rule <power_levels>.<x>)
    pl_users: int
    pl_creators: int
    pl_no_previous: int
    pl_scalars: int
    pl_maps_removed: int
    pl_maps_added: int
    pl_users_removed: int
    pl_users_added: int

    @classmethod
    def for_version(cls, v: RoomVersion) -> RuleNumbers:
        # v12 inserts rule 2 (room id is the create event's id) before the auth events rule.
        auth_events = 3 if v.room_id_from_create_event else 2
        federate = auth_events + 1
        aliases = federate + 1 if v.special_case_aliases_auth else 0
        member = federate + 1 + (1 if aliases else 0)
        # v8 inserts 2 (join_authorised_via_users_server signature) into the member rule.
        m = 1 if v.restricted_join_rule else 0
        knock = 6 + m if v.knock_join_rule else 0
        j_public = 5 + m
        pl_users = 3 if v.enforce_int_power_levels else 1
        pl_creators = pl_users + 1 if v.privileged_creators else 0
        pl_no_previous = pl_users + 1 + (1 if pl_creators else 0)
        return cls(
            auth_events=auth_events,
            federate=federate,
            aliases=aliases,
            member=member,
            sender_joined=member + 1,
            third_party_invite=member + 2,
            required_level=member + 3,
            state_key_sender=member + 4,
            power_levels=member + 5,
            redaction=member + 6 if v.redaction_auth_rule else 0,
            m_join=2 + m,
            m_invite=3 + m,
            m_leave=4 + m,
            m_ban=5 + m,
            m_knock=knock,
            m_unknown=(knock or 5 + m) + 1,
            j_public=j_public,
            j_otherwise=j_public + 1,
            pl_users=pl_users,
            pl_creators=pl_creators,
            pl_no_previous=pl_no_previous,
            pl_scalars=pl_no_previous + 1,
            pl_maps_removed=pl_no_previous + 2,
            pl_maps_added=pl_no_previous + 3,
            pl_users_removed=pl_no_previous + 4,
            pl_users_added=pl_no_previous + 5,
        )


_NUMBERS: dict[str, RuleNumbers] = {}


def rule_numbers(version: RoomVersion) -> RuleNumbers:
    found = _NUMBERS.get(version.identifier)
    if found is None:
        found = _NUMBERS[version.identifier] = RuleNumbers.for_version(version)
    return found


def reject(rule: str, message: str) -> AuthError:
    """An ``AuthError`` whose message starts with the rule it breaks."""
    return AuthError(f"rule {rule}: {message}")


def domain_of(identifier: str) -> str | None:
    """The part after the first ``:`` of a user, room or v1/v2 event id; ``None`` if the
    identifier has no domain. Deliberately lenient: the rules compare domains, the event
    format check is where malformed ids are refused."""
    _, sep, domain = identifier.partition(":")
    return domain if sep and domain else None


def is_valid_user_id(value: object) -> bool:
    """A user id as accepted in events: historical localparts allowed, the server name
    checked. spec: appendices "User Identifiers", "Historical User IDs"."""
    if not isinstance(value, str):
        return False
    try:
        parse_user_id(value)
    except InvalidIdentifier:
        return False
    return True


def is_int(value: object) -> bool:
    """A JSON integer (``bool`` is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)


class RoomState:
    """The state an event is checked against, with the derived values the rules use."""

    __slots__ = ("create", "creators", "event", "levels", "nums", "power_event", "state", "version")

    def __init__(
        self, event: Event, state: Mapping[StateKey, Event], create: Event, nums: RuleNumbers
    ) -> None:
        self.event = event
        self.state = state
        self.version = event.room_version
        self.create = create
        self.nums = nums
        self.creators = room_creators(create.sender, create.content, self.version)
        self.power_event = self.get(POWER_LEVELS, "")
        self.levels = (
            PowerLevels.absent()
            if self.power_event is None
            else PowerLevels.from_content(self.power_event.content, self.version)
        )

    def get(self, event_type: str, state_key: str) -> Event | None:
        found = self.state.get((event_type, state_key))
        if found is not None and found.room_id != self.event.room_id:
            # spec: auth rule 2.5 (3.4 in v12) — power from another room never counts.
            raise reject(
                f"{self.nums.auth_events}.{5 if not self.version.room_id_from_create_event else 4}",
                f"state event {found.event_id} belongs to room {found.room_id},"
                f" not {self.event.room_id}",
            )
        return found

    def membership(self, user_id: str) -> str | None:
        member = self.get(MEMBER, user_id)
        return None if member is None else member.membership

    def user_level(self, user_id: str) -> int:
        """The user's power level: ``power_levels.user_power_level`` with the power levels
        content parsed once per check instead of once per call."""
        if self.version.privileged_creators and user_id in self.creators:
            return INFINITE_POWER
        if self.power_event is None:
            return user_power_level(user_id, None, self.creators, self.version)
        return self.levels.user_level(user_id)

    @property
    def join_rule(self) -> object:
        # With no m.room.join_rules event the room behaves as invite-only, as Synapse and
        # ruma both do: the rules only allow joins for listed join rules.
        event = self.get(JOIN_RULES, "")
        if event is None:
            return "invite"
        return event.content.get("join_rule", "invite")
