"""The SFU's signaling protocol: JSON text frames on the WebSocket at ``GET /ws``.

Session
    1. Client: ``{"type": "join", "token": JWT}`` - the first frame (browsers cannot set
       headers on a WebSocket). A bad or expired token: ``error`` (``M_UNKNOWN_TOKEN``)
       then close code 4401; not (or no longer) in the room: ``M_FORBIDDEN``, close 4403;
       any other first frame: ``M_MISSING_TOKEN``, close 4401; no frame within
       ``JOIN_TIMEOUT_S``: close 4401.
    2. Server: ``{"type": "joined", "session_id", "user_id", "room_id"}``.

Two RTCPeerConnections per participant (ICE candidates are in the SDP, no trickle):
    - publish: the client offers its tracks,
      ``{"type": "publish", "sdp": offer, "tracks": [{"mid": "0", "kind": "audio"},
      {"mid": "1", "kind": "webcam"}, {"mid": "2", "kind": "screen"}]}``; kinds are
      ``audio`` (an audio m-line), ``webcam`` and ``screen`` (video m-lines). The list is
      the complete set published now: to add or stop a track, offer again on the same
      connection with the new list. Server: ``{"type": "publish_answer", "sdp": answer}``.
    - subscribe: the server offers everyone else's tracks,
      ``{"type": "subscribe", "sdp": offer, "tracks": [{"mid", "user_id", "session_id",
      "kind", "track_id"}]}`` (an m-line absent from ``tracks`` is an idle slot, direction
      inactive); the client answers ``{"type": "subscribe_answer", "sdp": answer}``. The
      server sends a new offer whenever tracks come or go (never two at once: changes
      wait for the pending answer).

State (server pushes ``participants`` after every change):
    ``{"type": "participants", "participants": [{"user_id", "session_id", "muted",
    "deafened", "server_muted", "tracks": [{"kind", "track_id"}]}]}``.
    - ``{"type": "mute", "muted": bool}``: own microphone; the SFU stops forwarding it.
    - ``{"type": "deafen", "deafened": bool}``: the SFU stops sending you any audio.
    - ``{"type": "moderate_mute", "user_id", "muted": bool}``: mute someone else; needs
      a power level that allows it (``Access.may_moderate``), else ``M_FORBIDDEN``. A
      server-muted participant stays silent whatever their own ``mute`` says.
    - ``{"type": "leave"}``: gone now; the socket closes with 1000.
    - ``{"type": "ping"}`` -> ``{"type": "pong"}``.

Errors: ``{"type": "error", "errcode", "error"}``; ``M_BAD_JSON`` (not JSON / wrong
shape), ``M_UNRECOGNIZED`` (unknown type), ``M_INVALID_PARAM`` (SDP and track list
disagree), ``M_FORBIDDEN``, ``M_NOT_FOUND``. Such a frame changes nothing and the session
goes on; only join refusals (and ``remove_user``: 4403) close the socket.

A participant whose socket drops without ``leave``, or whose media connection fails, is
removed after ``MediaSettings.drop_timeout_s`` (and ``CallRoster.left`` is called).
"""

from __future__ import annotations

from typing import Any

import orjson

from sfu.access import TRACK_KINDS, TrackKind
from sfu.media.errors import SignalingError

JOIN_TIMEOUT_S = 10.0
MAX_FRAME_BYTES = 256 * 1024  # an SDP with dozens of m-lines is ~20 KiB
MAX_TRACKS = 8


def parse_frame(text: str) -> dict[str, Any]:
    """A frame as a dict with a string ``type``, or ``SignalingError`` (``M_BAD_JSON``)."""
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise SignalingError("M_BAD_JSON", "frame is not JSON") from exc
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise SignalingError("M_BAD_JSON", "frame must be an object with a string 'type'")
    return frame


def string(frame: dict[str, Any], key: str) -> str:
    value = frame.get(key)
    if not isinstance(value, str) or not value:
        raise SignalingError("M_BAD_JSON", f"'{key}' must be a non-empty string")
    return value


def boolean(frame: dict[str, Any], key: str) -> bool:
    value = frame.get(key)
    if not isinstance(value, bool):
        raise SignalingError("M_BAD_JSON", f"'{key}' must be true or false")
    return value


def publish_tracks(frame: dict[str, Any]) -> dict[str, TrackKind]:
    """The ``tracks`` of a ``publish`` frame as mid -> kind."""
    tracks = frame.get("tracks")
    if not isinstance(tracks, list) or len(tracks) > MAX_TRACKS:
        raise SignalingError("M_BAD_JSON", f"'tracks' must be a list of at most {MAX_TRACKS}")
    wanted: dict[str, TrackKind] = {}
    for track in tracks:
        if not isinstance(track, dict):
            raise SignalingError("M_BAD_JSON", "each track must be an object")
        mid = string(track, "mid")
        kind = track.get("kind")
        if kind not in TRACK_KINDS:
            raise SignalingError("M_BAD_JSON", f"track kind must be one of {list(TRACK_KINDS)}")
        if mid in wanted:
            raise SignalingError("M_BAD_JSON", f"mid {mid!r} listed twice")
        wanted[mid] = kind
    if sum(1 for k in wanted.values() if k == "screen") > 1:
        raise SignalingError("M_INVALID_PARAM", "at most one screen share per participant")
    return wanted
