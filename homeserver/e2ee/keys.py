"""The key management API: upload, query, claim and changes of device keys, and
cross-signing keys and signatures.

spec: client-server "End-to-End Encryption": "Key management API" (``/keys/upload``,
``/keys/query``, ``/keys/claim``, ``/keys/changes``) and "Cross-signing"
(``/keys/device_signing/upload``, ``/keys/signatures/upload``). Keys of remote users
come from ``remote_keys`` (None without federation: their servers are failures).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from homeserver.accounts.requester import Requester
from homeserver.accounts.user_auth import UserAuth
from homeserver.errors import MatrixError, bad_json
from homeserver.protocol.ids import server_name_of
from homeserver.storage.e2e_store import (
    OneTimeKeyConflict,
    StoredSignature,
    UploadResult,
)
from homeserver.storage.store import Store
from homeserver.sync.tokens import StreamToken

from . import validation as v
from .device_lists import Change, DeviceListStream, KeyCountsCache, counts_json
from .remote_keys import RemoteKeys, timeout_seconds
from .to_device import ToDeviceStream

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]

MAX_QUERIED_USERS = 5000
UNREACHABLE = {"status": 503, "message": "Federation is not available yet"}


def _failure(errcode: str, message: str) -> JsonDict:
    return {"errcode": errcode, "error": message}


class E2eKeys:
    def __init__(
        self,
        store: Store,
        server_name: str,
        device_lists: DeviceListStream,
        to_device: ToDeviceStream,
        counts: KeyCountsCache,
        user_auth: UserAuth,
    ) -> None:
        self.store = store
        self.server_name = server_name
        self.device_lists = device_lists
        self.to_device = to_device
        self.counts = counts
        self.user_auth = user_auth
        # Set when federation is on (homeserver/app.py).
        self.remote: RemoteKeys | None = None

    def _is_local(self, user_id: str) -> bool:
        return server_name_of(user_id) == self.server_name

    # ------------------------------------------------------------------ /keys/upload

    async def upload(self, requester: Requester, body: Mapping[str, Any]) -> JsonDict:
        user_id, device_id = requester.user_id, requester.device_id
        if not device_id:
            # spec: application-service-api "Identity assertion": without `device_id`
            # operations that need a device fail.
            raise MatrixError(400, "M_UNKNOWN_DEVICE", "Uploading keys needs a device")
        upload = v.parse_upload(body, user_id, device_id)

        async def write() -> UploadResult:
            try:
                return await self.store.e2e_keys.upload(user_id, device_id, upload)
            except OneTimeKeyConflict as exc:
                raise v.invalid(
                    f"One-time key {exc.key_id} already exists with a different value"
                ) from None
            finally:
                self.counts.invalidate([(user_id, device_id)])

        def changes(result: UploadResult) -> list[Change]:
            if result.device_list_position is None:
                return []
            return [Change(result.device_list_position, (user_id,))]

        if upload.device_keys is None:
            result = await write()  # one-time and fallback keys are no device-list change
        else:
            result = await self.device_lists.publish(write, changes)
        return {"one_time_key_counts": counts_json(result.counts)}

    # ------------------------------------------------------------------ /keys/query

    async def query(self, requester: Requester, body: Mapping[str, Any]) -> JsonDict:
        wanted = body.get("device_keys")
        if not isinstance(wanted, dict):
            raise bad_json("`device_keys` must be an object")
        if len(wanted) > MAX_QUERIED_USERS:
            raise v.invalid(f"At most {MAX_QUERIED_USERS} users per query")
        local: dict[str, list[str] | None] = {}
        remote: dict[str, list[str] | None] = {}
        for user_id, device_ids in wanted.items():
            v.check_user_id(user_id)
            if not isinstance(device_ids, list) or not all(isinstance(d, str) for d in device_ids):
                raise bad_json(f"`device_keys.{user_id}` must be a list of device ids")
            (local if self._is_local(user_id) else remote)[user_id] = list(device_ids) or None
        response = await self.query_local(local, requester.user_id)
        failures: JsonDict = {}
        if remote and self.remote is None:
            failures = {server_name_of(user_id): UNREACHABLE for user_id in remote}
        elif remote and self.remote is not None:
            found = await self.remote.query(remote, timeout_seconds(body.get("timeout")))
            response["device_keys"].update(found.device_keys)
            response["master_keys"].update(found.master_keys)
            response["self_signing_keys"].update(found.self_signing_keys)
            failures = found.failures
        response["failures"] = failures
        return response

    async def query_local(self, local: dict[str, list[str] | None], viewer: str | None) -> JsonDict:
        """Keys of local users (``user -> device ids``, None: all) as ``viewer`` may
        see them; ``viewer`` None: another server asking (``/user/keys/query``)."""
        found, signatures = await self.store.e2e_keys.query(local)
        # spec: "Key and signature security" — a viewer sees signatures users made of
        # their own keys, and their own signatures of anyone's; not other users'
        # signatures of others.
        extra: dict[tuple[str, str], list[StoredSignature]] = {}
        for sig in signatures:
            if sig.signer_user_id in (sig.target_user_id, viewer):
                extra.setdefault((sig.target_user_id, sig.target_key_id), []).append(sig)
        response: JsonDict = {"device_keys": {}}
        masters: JsonDict = {}
        self_signing: JsonDict = {}
        user_signing: JsonDict = {}
        for user_id, keys in found.items():
            devices: JsonDict = {}
            for device_id, device in keys.devices.items():
                entry = _with_signatures(device.keys, extra.get((user_id, device_id), []))
                unsigned: JsonDict = {}
                if device.display_name is not None:
                    unsigned["device_display_name"] = device.display_name
                entry["unsigned"] = unsigned
                devices[device_id] = entry
            response["device_keys"][user_id] = devices
            master = keys.cross_signing.get(v.MASTER)
            if master is not None:
                masters[user_id] = _with_signatures(
                    master, extra.get((user_id, v.public_key_of(master)), [])
                )
            if v.SELF_SIGNING in keys.cross_signing:
                self_signing[user_id] = keys.cross_signing[v.SELF_SIGNING]
            # spec: the user-signing key only for its owner.
            if user_id == viewer and v.USER_SIGNING in keys.cross_signing:
                user_signing[user_id] = keys.cross_signing[v.USER_SIGNING]
        response["master_keys"] = masters
        response["self_signing_keys"] = self_signing
        if viewer is not None:
            response["user_signing_keys"] = user_signing
        return response

    # ------------------------------------------------------------------ /keys/claim

    async def claim(self, requester: Requester, body: Mapping[str, Any]) -> JsonDict:
        wanted = body.get("one_time_keys")
        if not isinstance(wanted, dict):
            raise bad_json("`one_time_keys` must be an object")
        local: list[tuple[str, str, str]] = []
        remote: dict[str, dict[str, str]] = {}
        for user_id, by_device in wanted.items():
            v.check_user_id(user_id)
            if not isinstance(by_device, dict) or not all(
                isinstance(a, str) for a in by_device.values()
            ):
                raise bad_json(f"`one_time_keys.{user_id}` must map device ids to algorithms")
            if not self._is_local(user_id):
                remote[user_id] = by_device
                continue
            local += [(user_id, device_id, algorithm) for device_id, algorithm in by_device.items()]
        if len(local) + sum(len(d) for d in remote.values()) > MAX_QUERIED_USERS:
            raise v.invalid(f"At most {MAX_QUERIED_USERS} keys per claim")
        keys = await self.claim_local(local)
        failures: JsonDict = {}
        if remote and self.remote is None:
            failures = {server_name_of(user_id): UNREACHABLE for user_id in remote}
        elif remote and self.remote is not None:
            found, failures = await self.remote.claim(remote, timeout_seconds(body.get("timeout")))
            keys.update(found)
        return {"one_time_keys": keys, "failures": failures}

    async def claim_local(self, local: list[tuple[str, str, str]]) -> JsonDict:
        """Claim keys of local devices: ``user -> device -> {algorithm:key_id: key}``."""
        claimed = await self.store.e2e_keys.claim(local) if local else {}
        self.counts.invalidate(claimed)
        keys: JsonDict = {}
        for (user_id, device_id), by_key in claimed.items():
            keys.setdefault(user_id, {})[device_id] = by_key
        return keys

    # ------------------------------------------------------------------ /keys/changes

    async def changes(self, requester: Requester, from_: str, to: str | None) -> JsonDict:
        since = StreamToken.parse(from_)
        upto = (
            StreamToken.parse(to)
            if to is not None
            else self.device_lists.notifier.current_token(since)
        )
        changed, left = await self.device_lists.changes(requester.user_id, since, upto)
        return {"changed": changed, "left": left}

    # ------------------------------------------------------------------ cross-signing

    async def upload_cross_signing(self, requester: Requester, body: Mapping[str, Any]) -> None:
        """spec: ``POST /keys/device_signing/upload``."""
        user_id = requester.user_id
        given: dict[str, JsonDict] = {}
        for usage, name in (
            (v.MASTER, "master_key"),
            (v.SELF_SIGNING, "self_signing_key"),
            (v.USER_SIGNING, "user_signing_key"),
        ):
            if body.get(name) is not None:
                given[usage] = v.parse_cross_signing_key(body[name], user_id, usage, name)
        existing = await self.store.e2e_keys.cross_signing_keys(user_id)
        # spec: UIA unless there is no master key yet, or the request holds no new key
        # (a retry of an upload whose response was lost).
        if existing.get(v.MASTER) is not None and any(
            existing.get(usage) != key for usage, key in given.items()
        ):
            await self.user_auth.confirm(
                requester, body.get("auth"), "POST /keys/device_signing/upload"
            )
        if not given:
            return
        master = given.get(v.MASTER, existing.get(v.MASTER))
        if master is None:
            raise MatrixError(400, "M_MISSING_PARAM", "No master signing key is available")
        master_public = v.public_key_of(master)
        for usage in (v.SELF_SIGNING, v.USER_SIGNING):
            key = given.get(usage)
            if key is not None and not v.signed_by(key, user_id, master_public):
                raise MatrixError(
                    400, "M_INVALID_SIGNATURE", f"The {usage} key is not signed by the master key"
                )
        device_ids = await self.store.e2e_keys.device_ids(user_id)
        for key in given.values():
            # spec: "Servers therefore must ensure that device IDs will not collide with
            # cross-signing public keys."
            if v.public_key_of(key) in device_ids:
                raise MatrixError(403, "M_FORBIDDEN", "Key ID in use")
        stored = {usage: (v.public_key_of(key), key) for usage, key in given.items()}
        await self.device_lists.publish(
            lambda: self.store.e2e_keys.put_cross_signing_keys(user_id, stored),
            lambda position: [Change(position, (user_id,))],
        )

    async def upload_signatures(self, requester: Requester, body: Mapping[str, Any]) -> JsonDict:
        """spec: ``POST /keys/signatures/upload``: the requester's self-signing key signs
        their devices, their devices sign their master key, their user-signing key signs
        other users' master keys."""
        signer = requester.user_id
        failures: dict[str, JsonDict] = {}
        accepted: list[StoredSignature] = []
        own = await self.store.e2e_keys.cross_signing_keys(signer)
        own_devices: dict[str, JsonDict] | None = None
        for target, by_key in body.items():
            v.check_user_id(target)
            if not isinstance(by_key, dict) or not all(
                isinstance(o, dict) for o in by_key.values()
            ):
                raise bad_json(f"`{target}` must map key ids to signed objects")
            if not by_key:
                continue
            if not self._is_local(target):
                for key_id in by_key:
                    failures.setdefault(target, {})[key_id] = _failure(
                        "M_NOT_FOUND", "Keys of remote users are not available yet"
                    )
                continue
            if target == signer and own_devices is None:
                own_devices = await self._device_keys(signer)
            theirs = (
                own if target == signer else await self.store.e2e_keys.cross_signing_keys(target)
            )
            for key_id, signed in by_key.items():
                try:
                    accepted += self._check_signed(
                        signer, target, key_id, signed, own, theirs, own_devices or {}
                    )
                except MatrixError as exc:
                    failures.setdefault(target, {})[key_id] = _failure(exc.errcode, exc.message)
        if accepted:
            await self.device_lists.publish(
                lambda: self.store.e2e_keys.put_signatures(accepted, signer),
                lambda recorded: [
                    Change(position, (signer,) if only_for is None else (), only_for)
                    for position, only_for in recorded
                ],
            )
        return {"failures": failures}

    async def _device_keys(self, user_id: str) -> dict[str, JsonDict]:
        found, _ = await self.store.e2e_keys.query({user_id: None})
        return {d: device.keys for d, device in found[user_id].devices.items()}

    def _check_signed(
        self,
        signer: str,
        target: str,
        key_id: str,
        signed: JsonDict,
        own: dict[str, JsonDict],
        theirs: dict[str, JsonDict],
        own_devices: dict[str, JsonDict],
    ) -> list[StoredSignature]:
        """The new signatures ``signer`` made in ``signed`` (the object with id ``key_id``
        of ``target``), checked; raises ``MatrixError`` for the failure to report."""
        signatures = signed.get("signatures")
        mine = signatures.get(signer) if isinstance(signatures, dict) else None
        if not isinstance(mine, dict):
            raise MatrixError(400, "M_INVALID_SIGNATURE", "No signature by the uploader")
        target_master = theirs.get(v.MASTER)
        if target == signer and key_id in own_devices:
            # One of the signer's devices, signed by their self-signing key.
            stored = own_devices[key_id]
            signing_key = own.get(v.SELF_SIGNING)
            if signing_key is None:
                raise MatrixError(400, "M_MISSING_PARAM", "No self-signing key")
            candidates = {
                f"{v.ED25519}:{v.public_key_of(signing_key)}": v.public_key_of(signing_key)
            }
        elif target_master is not None and key_id == v.public_key_of(target_master):
            stored = target_master
            if target == signer:
                # The signer's master key, signed by their devices' ed25519 keys.
                candidates = {}
                for device_id, device in own_devices.items():
                    public = device.get("keys", {}).get(f"{v.ED25519}:{device_id}")
                    if isinstance(public, str):
                        candidates[f"{v.ED25519}:{device_id}"] = public
            else:
                # Another user's master key, signed by the signer's user-signing key.
                signing_key = own.get(v.USER_SIGNING)
                if signing_key is None:
                    raise MatrixError(400, "M_MISSING_PARAM", "No user-signing key")
                public = v.public_key_of(signing_key)
                candidates = {f"{v.ED25519}:{public}": public}
        else:
            raise MatrixError(404, "M_NOT_FOUND", "Unknown key")
        if not v.same_key(signed, stored):
            raise MatrixError(400, "M_INVALID_PARAM", "The signed object does not match the key")
        found: list[StoredSignature] = []
        for signing_key_id, signature in mine.items():
            public = candidates.get(signing_key_id)
            if public is None:
                continue  # e.g. the device's own signature of its keys, already there
            if not isinstance(signature, str) or not v.signed_with(
                {**stored, "signatures": {signer: {signing_key_id: signature}}},
                signer,
                signing_key_id,
                public,
            ):
                raise MatrixError(400, "M_INVALID_SIGNATURE", "Invalid signature")
            found.append(StoredSignature(signer, signing_key_id, target, key_id, signature))
        if not found:
            raise MatrixError(400, "M_INVALID_SIGNATURE", "No signature by an appropriate key")
        return found

    # ------------------------------------------------------------------ account hooks

    async def on_devices_added(self, user_id: str, device_ids: list[str]) -> None:
        for device_id in device_ids:
            self.counts.new_device(user_id, device_id)
        await self.device_lists.record([user_id])

    async def on_devices_removed(self, user_id: str, device_ids: list[str]) -> None:
        await self.device_lists.publish(
            lambda: self.store.e2e_keys.delete_devices(user_id, device_ids),
            lambda position: [Change(position, (user_id,))],
        )
        self.to_device.forget_devices(user_id, device_ids)
        self.counts.invalidate((user_id, d) for d in device_ids)

    async def on_user_deactivated(self, user_id: str) -> None:
        await self.device_lists.publish(
            lambda: self.store.e2e_keys.delete_user(user_id),
            lambda position: [Change(position, (user_id,))],
        )


def _with_signatures(key: JsonDict, extra: list[StoredSignature]) -> JsonDict:
    """A copy of ``key`` with the stored signatures of it merged in."""
    out = dict(key)
    if extra:
        signatures = {u: dict(s) for u, s in key.get("signatures", {}).items()}
        for sig in extra:
            signatures.setdefault(sig.signer_user_id, {})[sig.signer_key_id] = sig.signature
        out["signatures"] = signatures
    return out
