"""Reading and writing the server's signing key file (signedjson's format)."""

from __future__ import annotations

import os
from pathlib import Path

from homeserver.protocol.errors import ProtocolError
from homeserver.protocol.signing import SigningKey


class KeyFileError(Exception):
    """The signing key file is missing or unreadable; the message names the file."""


def write_new_signing_key(path: Path, server_name: str) -> SigningKey:
    """Generate a key and write it with owner-only permissions; never overwrite."""
    key = SigningKey.generate(server_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise KeyFileError(f"{path}: already exists; refusing to overwrite a signing key") from exc
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.encode() + "\n")
    return key


def load_signing_key(path: Path, server_name: str) -> SigningKey:
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError as exc:
        raise KeyFileError(
            f"{path}: no signing key; run `concord generate-config` or restore the key"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{path}: cannot read the signing key: {exc}") from exc
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise KeyFileError(f"{path}: the signing key file is empty")
    try:
        return SigningKey.decode(server_name, lines[0])
    except ProtocolError as exc:
        raise KeyFileError(f"{path}: not a signing key: {exc}") from exc
