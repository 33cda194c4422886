"""Typed errors raised by the pure protocol package.

Nothing in ``homeserver.protocol`` lets a ``KeyError`` or ``TypeError`` escape on
malformed input: every failure is one of these, with a message a person can act on.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base class of every error raised by ``homeserver.protocol``."""


class CanonicalJsonError(ProtocolError):
    """A value cannot be encoded as canonical JSON (float, out-of-range integer, ...)."""


class InvalidIdentifier(ProtocolError):
    """A user, room, event, alias or server identifier breaks the grammar."""


class UnknownRoomVersion(ProtocolError):
    """The room version is not one we implement."""


class InvalidEvent(ProtocolError):
    """An event's JSON does not match the event format of its room version."""


class SignatureError(ProtocolError):
    """A signature is missing, malformed or does not verify."""


class HashMismatch(InvalidEvent):
    """The content hash of an event does not match its content."""


class AuthError(ProtocolError):
    """An event is not allowed by the authorization rules."""


class StateResolutionError(ProtocolError):
    """State resolution could not complete (missing events, bad input)."""
