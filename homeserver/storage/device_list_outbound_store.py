"""What other servers were told of local users' devices, and the next thing to tell.

spec: server-server "Device Management". Each ``m.device_list_update`` describes one
device and carries a ``stream_id`` (counting up per user) and the ``prev_id`` it
follows. ``device_list_outbound`` holds the devices as last announced; ``diff_user``
compares them with the devices as they are now (keys with the owner's own signatures,
display names) and turns each difference into the next update, in the writer's
transaction, so updates of one user are numbered and chained without gaps.
``/user/devices`` answers from the same rows: its ``stream_id`` matches its devices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from .database import Database, Txn
from .e2e_store import cross_signing_keys, device_keys, signatures_of

JsonDict = dict[str, Any]

# The cross-signing keys other servers see (the user-signing key stays private).
PUBLIC_USAGES = ("master", "self_signing")


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")


@dataclass(frozen=True, slots=True)
class OutboundUpdate:
    """The content of one ``m.device_list_update`` to send."""

    content: JsonDict


@dataclass(frozen=True, slots=True)
class OutboundChanges:
    devices: list[OutboundUpdate]
    signing_keys: JsonDict | None  # content of an m.signing_key_update, if they changed


@dataclass(frozen=True, slots=True)
class AnnouncedDevices:
    """The answer of ``/user/devices``: the devices as announced up to ``stream_id``."""

    stream_id: int
    devices: list[tuple[str, JsonDict, str | None]]  # (device_id, keys, display name)
    cross_signing: dict[str, JsonDict]


def _merge_signatures(key: JsonDict, extra: Sequence[tuple[str, str, str]]) -> JsonDict:
    if not extra:
        return key
    out = dict(key)
    signatures = {u: dict(s) for u, s in key.get("signatures", {}).items()}
    for signer, key_id, signature in extra:
        signatures.setdefault(signer, {})[key_id] = signature
    out["signatures"] = signatures
    return out


def public_keys(txn: Txn, user_id: str) -> tuple[dict[str, tuple[str, str | None]], JsonDict]:
    """The user's devices with keys (``device_id -> (keys JSON, display name)``) and
    public cross-signing keys, with the signatures the user made of them (what every
    other user may see: spec client-server "Key and signature security")."""
    devices = device_keys(txn, user_id, None)
    cross = {u: k for u, k in cross_signing_keys(txn, user_id).items() if u in PUBLIC_USAGES}
    master = cross.get("master")
    targets = list(devices)
    if master is not None:
        targets += [k.partition(":")[2] for k in master.get("keys", {})]
    own: dict[str, list[tuple[str, str, str]]] = {}
    for sig in signatures_of(txn, user_id, targets) if targets else []:
        if sig.signer_user_id == user_id:
            own.setdefault(sig.target_key_id, []).append(
                (sig.signer_user_id, sig.signer_key_id, sig.signature)
            )
    current = {
        d.device_id: (_dumps(_merge_signatures(d.keys, own.get(d.device_id, []))), d.display_name)
        for d in devices.values()
    }
    if master is not None:
        extra = [s for k in master.get("keys", {}) for s in own.get(k.partition(":")[2], [])]
        cross["master"] = _merge_signatures(master, extra)
    return current, cross


def diff_user(txn: Txn, user_id: str) -> OutboundChanges:
    """The updates that bring what peers know of ``user_id`` to what is true now,
    recorded as announced."""
    current, cross = public_keys(txn, user_id)
    announced = {
        row[0]: (row[1], row[2])
        for row in txn.fetchall(
            "SELECT device_id, keys_json, display_name FROM device_list_outbound WHERE user_id = ?",
            (user_id,),
        )
    }
    state = txn.fetchone(
        "SELECT stream_id, cross_signing_json FROM device_list_outbound_users WHERE user_id = ?",
        (user_id,),
    )
    stream_id = int(state[0]) if state is not None else 0
    cross_text = _dumps(cross)
    signing: JsonDict | None = None
    if cross_text != (state[1] if state is not None else _dumps({})):
        signing = {"user_id": user_id}
        for usage in PUBLIC_USAGES:
            if usage in cross:
                signing[f"{usage}_key"] = cross[usage]
    updates: list[OutboundUpdate] = []
    for device_id in sorted(set(current) | set(announced)):
        now, before = current.get(device_id), announced.get(device_id)
        if now == before:
            continue
        content: JsonDict = {"user_id": user_id, "device_id": device_id}
        # spec: prev_id "May be missing or empty for the first EDU in a sequence".
        content["prev_id"] = [stream_id] if stream_id else []
        stream_id += 1
        content["stream_id"] = stream_id
        if now is None:
            content["deleted"] = True
            txn.execute(
                "DELETE FROM device_list_outbound WHERE user_id = ? AND device_id = ?",
                (user_id, device_id),
            )
        else:
            keys_text, display_name = now
            content["keys"] = orjson.loads(keys_text)
            if display_name is not None:
                content["device_display_name"] = display_name
            txn.execute(
                "INSERT INTO device_list_outbound (user_id, device_id, keys_json, display_name)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (user_id, device_id) DO UPDATE SET"
                " keys_json = excluded.keys_json, display_name = excluded.display_name",
                (user_id, device_id, keys_text, display_name),
            )
        updates.append(OutboundUpdate(content))
    if updates or signing is not None:
        txn.execute(
            "INSERT INTO device_list_outbound_users (user_id, stream_id, cross_signing_json)"
            " VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
            " stream_id = excluded.stream_id, cross_signing_json = excluded.cross_signing_json",
            (user_id, stream_id, cross_text),
        )
    return OutboundChanges(updates, signing)


def announced_devices(txn: Txn, user_id: str) -> AnnouncedDevices:
    state = txn.fetchone(
        "SELECT stream_id, cross_signing_json FROM device_list_outbound_users WHERE user_id = ?",
        (user_id,),
    )
    rows = txn.fetchall(
        "SELECT device_id, keys_json, display_name FROM device_list_outbound WHERE user_id = ?"
        " ORDER BY device_id",
        (user_id,),
    )
    return AnnouncedDevices(
        stream_id=int(state[0]) if state is not None else 0,
        devices=[(row[0], orjson.loads(row[1]), row[2]) for row in rows if row[1] is not None],
        cross_signing=orjson.loads(state[1]) if state is not None else {},
    )


def sync_and_read(txn: Txn, user_id: str) -> tuple[OutboundChanges, AnnouncedDevices]:
    """Bring the announced list up to date, then read it (``/user/devices``): the caller
    sends the updates it returns, so peers following EDUs agree with this answer."""
    changes = diff_user(txn, user_id)
    return changes, announced_devices(txn, user_id)


class DeviceListOutboundStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def diff_user(self, user_id: str) -> OutboundChanges:
        return await self.db.write(diff_user, user_id)

    async def sync_and_read(self, user_id: str) -> tuple[OutboundChanges, AnnouncedDevices]:
        return await self.db.write(sync_and_read, user_id)
