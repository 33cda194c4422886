"""The ``concord`` section of ``config.yaml``: the Concord layer's system users.

Kept apart from ``config`` (which re-exports these names) so that each file stays short.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.ids import parse_user_id

if TYPE_CHECKING:
    from homeserver.config import _Reader

# The power level the SFU bot gets in voice channels. It only publishes and clears
# org.matrix.msc3401.call.member state, which voice channels open at level 0; anything
# higher could reach a rung of the compiler's ladder (kick, ban, ...) that no role gave it.
DEFAULT_SFU_POWER_LEVEL = 0


@dataclass(frozen=True, slots=True)
class ConcordConfig:
    """``concord.steward_localpart``: the system user that applies compiled guild
    permissions (DESIGN.md "Concord layer"); ``concord.sfu_user_id``: the SFU's bot,
    invited into every voice channel with ``sfu_power_level``; ``concord.sfu_url``: where
    clients reach the SFU, announced in ``/.well-known/matrix/client``."""

    steward_localpart: str = "concord"
    sfu_user_id: str | None = None
    sfu_power_level: int = DEFAULT_SFU_POWER_LEVEL
    sfu_url: str | None = None


def parse_concord(r: _Reader, section: dict[str, Any], server_name: str) -> ConcordConfig:
    known = {"steward_localpart", "sfu_user_id", "sfu_power_level", "sfu_url"}
    for key in section:
        if key not in known:
            raise r.fail(f"concord.{key}", "is not a known setting")
    localpart = r.string(section, "concord.steward_localpart", "concord")
    try:
        parse_user_id(f"@{localpart}:{server_name}", strict=True)
    except InvalidIdentifier as exc:
        raise r.fail("concord.steward_localpart", f"is not a valid localpart: {exc}") from exc
    sfu = section.get("sfu_user_id")
    if sfu is not None:
        if not isinstance(sfu, str):
            raise r.fail("concord.sfu_user_id", "must be a user id")
        try:
            parse_user_id(sfu)
        except InvalidIdentifier as exc:
            raise r.fail("concord.sfu_user_id", f"is not a valid user id: {exc}") from exc
    sfu_url = section.get("sfu_url")
    if sfu_url is not None and (
        not isinstance(sfu_url, str) or not sfu_url.startswith(("http://", "https://"))
    ):
        raise r.fail("concord.sfu_url", "must be an http:// or https:// URL")
    return ConcordConfig(
        steward_localpart=localpart,
        sfu_url=sfu_url,
        sfu_user_id=sfu,
        sfu_power_level=r.integer(
            section, "concord.sfu_power_level", DEFAULT_SFU_POWER_LEVEL, 0, 99
        ),
    )
