"""Reading what another server answers, bounded: a peer (any host named in a ``/token``
request) must not make the SFU buffer an unbounded body."""

from __future__ import annotations

import aiohttp

CHUNK = 64 * 1024


async def read_limited(resp: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The whole body, or None when it is longer than ``limit`` bytes. A read returns
    what has arrived, so the body is read chunk by chunk."""
    if resp.content_length is not None and resp.content_length > limit:
        return None
    chunks, size = [], 0
    while chunk := await resp.content.read(CHUNK):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
