"""Settings of the media half, filled in by ``sfu/config.py``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MediaSettings:
    # A participant whose signaling socket drops without ``leave`` (or whose media
    # connection fails) is removed after this many seconds.
    drop_timeout_s: float = 10.0
    # The only address ICE offers as a host candidate (process-wide, see
    # ``aiortc_hooks.restrict_host_addresses``); "" keeps aioice's default: every
    # interface but loopback.
    ice_host: str = "127.0.0.1"
