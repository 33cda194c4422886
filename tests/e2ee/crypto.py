"""What an E2EE client publishes, with real ed25519 keys (PyNaCl) and real signatures
(canonical JSON, spec: appendices "Signing JSON"), for the tests."""

from __future__ import annotations

import base64
import os
from typing import Any

import nacl.signing

from homeserver.protocol.canonical import encode_canonical_json

from ..support.matrix_client import User

JsonDict = dict[str, Any]
OLM = "m.olm.v1.curve25519-aes-sha2"
MEGOLM = "m.megolm.v1.aes-sha2"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii").rstrip("=")


class Ed25519:
    def __init__(self) -> None:
        self.key = nacl.signing.SigningKey.generate()
        self.public = b64(bytes(self.key.verify_key))

    def sign(self, obj: JsonDict, user_id: str, key_name: str | None = None) -> JsonDict:
        """``obj`` with this key's signature added (key id ``ed25519:<key_name>``,
        by default ``ed25519:<public key>``)."""
        signable = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
        signature = b64(self.key.sign(encode_canonical_json(signable)).signature)
        signatures = {u: dict(s) for u, s in obj.get("signatures", {}).items()}
        signatures.setdefault(user_id, {})[f"ed25519:{key_name or self.public}"] = signature
        return {**obj, "signatures": signatures}


class Device:
    """A client device: its identity keys, one-time and fallback keys."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.ed25519 = Ed25519()
        self.curve25519 = b64(os.urandom(32))
        self._next_key = 0

    @property
    def user_id(self) -> str:
        return self.user.user_id

    @property
    def device_id(self) -> str:
        return self.user.device_id

    def sign(self, obj: JsonDict) -> JsonDict:
        return self.ed25519.sign(obj, self.user_id, self.device_id)

    def device_keys(self) -> JsonDict:
        return self.sign(
            {
                "user_id": self.user_id,
                "device_id": self.device_id,
                "algorithms": [OLM, MEGOLM],
                "keys": {
                    f"curve25519:{self.device_id}": self.curve25519,
                    f"ed25519:{self.device_id}": self.ed25519.public,
                },
            }
        )

    def one_time_keys(self, count: int, *, fallback: bool = False) -> JsonDict:
        keys = {}
        for _ in range(count):
            self._next_key += 1
            key: JsonDict = {"key": b64(os.urandom(32))}
            if fallback:
                key["fallback"] = True
            keys[f"signed_curve25519:AAAA{self._next_key:04d}"] = self.sign(key)
        return keys

    async def upload(self, **body: Any) -> Any:
        return await self.user.call("POST", "/keys/upload", body)


class CrossSigning:
    """A user's master, self-signing and user-signing keys."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.master = Ed25519()
        self.self_signing = Ed25519()
        self.user_signing = Ed25519()

    def _key(self, key: Ed25519, usage: str) -> JsonDict:
        return {
            "user_id": self.user_id,
            "usage": [usage],
            "keys": {f"ed25519:{key.public}": key.public},
        }

    def master_key(self) -> JsonDict:
        return self._key(self.master, "master")

    def self_signing_key(self) -> JsonDict:
        return self.master.sign(self._key(self.self_signing, "self_signing"), self.user_id)

    def user_signing_key(self) -> JsonDict:
        return self.master.sign(self._key(self.user_signing, "user_signing"), self.user_id)

    def upload_body(self) -> JsonDict:
        return {
            "master_key": self.master_key(),
            "self_signing_key": self.self_signing_key(),
            "user_signing_key": self.user_signing_key(),
        }
