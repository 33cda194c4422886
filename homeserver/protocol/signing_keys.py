"""Ed25519 signing keys and the public keys of other servers.

spec: appendices "Signing Details" (key ids are ``ed25519:<version>``), server-server
"Retrieving server keys" (key versions match ``[a-zA-Z0-9_]``), rooms/v5 "Signing key
validity period". Keys are read and written in signedjson's file format
(``ed25519 <version> <base64 seed>``), so a key file is interchangeable with Synapse's.
Ed25519 itself comes from pynacl, the library signedjson wraps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import nacl.exceptions
import nacl.signing

from .canonical import decode_unpadded_base64, unpadded_base64
from .errors import CanonicalJsonError, SignatureError

ED25519 = "ed25519"
_KEY_VERSION = re.compile(r"[a-zA-Z0-9_]+")


class InvalidSigningKey(SignatureError):
    """A signing or verify key cannot be decoded."""


@dataclass(frozen=True)
class SigningKey:
    """A server's ed25519 signing key, with the server name and key id it signs as."""

    server_name: str
    key_id: str  # "ed25519:<version>"
    nacl_key: nacl.signing.SigningKey = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        algorithm, _, version = self.key_id.partition(":")
        if algorithm != ED25519 or not _KEY_VERSION.fullmatch(version):
            raise InvalidSigningKey(f"bad key id {self.key_id!r}: want ed25519:[a-zA-Z0-9_]+")

    @classmethod
    def generate(cls, server_name: str, version: str | None = None) -> SigningKey:
        """A fresh random key; the version defaults to one derived from the public key."""
        nacl_key = nacl.signing.SigningKey.generate()
        if version is None:
            public = unpadded_base64(bytes(nacl_key.verify_key))
            version = "a_" + re.sub(r"[^a-zA-Z0-9]", "", public)[:4]
        return cls(server_name, f"{ED25519}:{version}", nacl_key)

    @classmethod
    def from_seed(cls, server_name: str, version: str, seed: bytes | str) -> SigningKey:
        """Build a key from its 32-byte seed (raw bytes or unpadded base64)."""
        raw = _decode_key_material(seed, "signing key seed")
        try:
            nacl_key = nacl.signing.SigningKey(raw)
        except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
            raise InvalidSigningKey(f"bad ed25519 seed: {exc}") from exc
        return cls(server_name, f"{ED25519}:{version}", nacl_key)

    @classmethod
    def decode(cls, server_name: str, text: str) -> SigningKey:
        """Read signedjson's key file line ``ed25519 <version> <base64 seed>``."""
        parts = text.split()
        if len(parts) != 3 or parts[0] != ED25519:
            raise InvalidSigningKey("a signing key is 'ed25519 <version> <base64 seed>'")
        return cls.from_seed(server_name, parts[1], parts[2])

    def encode(self) -> str:
        """signedjson's key file line: ``ed25519 <version> <unpadded base64 seed>``."""
        return f"{ED25519} {self.version} {unpadded_base64(bytes(self.nacl_key))}"

    @property
    def version(self) -> str:
        return self.key_id.partition(":")[2]

    @property
    def verify_key(self) -> nacl.signing.VerifyKey:
        return self.nacl_key.verify_key

    @property
    def verify_key_base64(self) -> str:
        return unpadded_base64(bytes(self.nacl_key.verify_key))

    def sign_bytes(self, message: bytes) -> str:
        """The unpadded base64 ed25519 signature of ``message``."""
        return unpadded_base64(self.nacl_key.sign(message).signature)


def _decode_key_material(value: bytes | str, what: str) -> bytes:
    if isinstance(value, str):
        try:
            value = decode_unpadded_base64(value)
        except CanonicalJsonError as exc:
            raise InvalidSigningKey(f"{what} is not base64") from exc
    if not isinstance(value, bytes) or len(value) != 32:
        raise InvalidSigningKey(f"{what} must be 32 bytes")
    return value


def decode_verify_key(value: str | bytes | nacl.signing.VerifyKey) -> nacl.signing.VerifyKey:
    """A verify key from unpadded base64, 32 raw bytes, or a nacl key."""
    if isinstance(value, nacl.signing.VerifyKey):
        return value
    raw = _decode_key_material(value, "verify key")
    try:
        return nacl.signing.VerifyKey(raw)
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise InvalidSigningKey(f"bad ed25519 verify key: {exc}") from exc


@dataclass(frozen=True, slots=True)
class VerifyKeyInfo:
    """A server's public key and how long it may be used.

    ``valid_until_ts`` is the key response's ``valid_until_ts`` (capped by the caller
    at 7 days into the future, spec: rooms/v5 "Signing key validity period"), or the
    ``expired_ts`` of an old verify key; ``None`` means no limit is known.
    """

    key: nacl.signing.VerifyKey
    valid_until_ts: int | None = None

    @classmethod
    def decode(
        cls, key: str | bytes | nacl.signing.VerifyKey, valid_until_ts: int | None = None
    ) -> VerifyKeyInfo:
        return cls(decode_verify_key(key), valid_until_ts)
