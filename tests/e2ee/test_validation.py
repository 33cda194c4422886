"""What clients upload, checked without a server (``homeserver.e2ee.validation``)."""

from __future__ import annotations

import pytest

from homeserver.e2ee import validation as v
from homeserver.errors import MatrixError
from homeserver.storage.key_backup_store import RoomKey

from .crypto import CrossSigning, Ed25519


def key(index: int, forwarded: int, verified: bool) -> RoomKey:
    return RoomKey(index, forwarded, verified, {})


@pytest.mark.parametrize(
    ("stored", "uploaded", "replace"),
    [
        (key(0, 0, False), key(5, 5, True), True),  # verified wins
        (key(5, 5, True), key(0, 0, False), False),
        (key(5, 0, False), key(4, 9, False), True),  # then the lower first index
        (key(4, 0, False), key(5, 0, False), False),
        (key(5, 3, True), key(5, 2, True), True),  # then fewer forwards
        (key(5, 2, True), key(5, 3, True), False),
        (key(5, 2, True), key(5, 2, True), False),  # a tie keeps what is stored
    ],
)
def test_backup_replacement_rules(stored: RoomKey, uploaded: RoomKey, replace: bool) -> None:
    assert v.should_replace(stored, uploaded) is replace


def test_parse_upload() -> None:
    user, device = "@a:x", "DEV"
    upload = v.parse_upload(
        {
            "device_keys": {
                "user_id": user,
                "device_id": device,
                "algorithms": [],
                "keys": {"ed25519:DEV": "k"},
                "signatures": {user: {"ed25519:DEV": "s"}},
                "unsigned": {"device_display_name": "dropped"},
            },
            "one_time_keys": {"signed_curve25519:B": {"key": "k", "signatures": {}}, "c:A": "raw"},
            "org.matrix.msc2732.fallback_keys": {
                "signed_curve25519:F": {"key": "f", "signatures": {}}
            },
        },
        user,
        device,
    )
    assert upload.device_keys is not None and "unsigned" not in upload.device_keys
    assert [(a, k) for a, k, _ in upload.one_time_keys] == [("c", "A"), ("signed_curve25519", "B")]
    assert [(a, k) for a, k, _ in upload.fallback_keys] == [("signed_curve25519", "F")]
    assert v.parse_upload({}, user, device).device_keys is None
    with pytest.raises(MatrixError) as exc:
        v.parse_upload({"one_time_keys": {":A": "x"}}, user, device)
    assert exc.value.errcode == "M_INVALID_PARAM"


def test_cross_signing_keys_and_signatures() -> None:
    keys = CrossSigning("@a:x")
    ssk = keys.self_signing_key()
    parsed = v.parse_cross_signing_key(ssk, "@a:x", v.SELF_SIGNING, "self_signing_key")
    assert v.public_key_of(parsed) == keys.self_signing.public
    assert v.signed_by(ssk, "@a:x", keys.master.public)
    assert not v.signed_by(ssk, "@a:x", keys.user_signing.public)
    assert not v.signed_by(ssk, "@b:x", keys.master.public)
    # Any change to the signed content breaks the signature; signatures do not count.
    assert not v.signed_by({**ssk, "usage": ["master"]}, "@a:x", keys.master.public)
    other = Ed25519().sign(ssk, "@a:x", "OTHER")
    assert v.signed_by(other, "@a:x", keys.master.public)
    assert v.same_key(other, ssk) and not v.same_key(other, keys.master_key())
    # A malformed signature or key is a failed check, not an exception.
    broken = {**ssk, "signatures": {"@a:x": {f"ed25519:{keys.master.public}": "!!"}}}
    assert not v.signed_by(broken, "@a:x", keys.master.public)
    assert not v.signed_by(ssk, "@a:x", "not-a-key")
