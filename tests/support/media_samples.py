"""Media made in the test, never downloaded: images with Pillow, an Ogg Opus file by hand.

``ogg_opus()`` is a complete, valid Ogg Opus stream (RFC 7845): an ``OpusHead`` page, an
``OpusTags`` page and one page of 20 ms of silence, each page with its CRC (RFC 3533).
"""

from __future__ import annotations

import io
import struct
from typing import Any


def png(width: int = 64, height: int = 48, color: Any = (200, 30, 30, 255)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    image = Image.new("RGBA", (width, height), color)
    # Not a flat colour: a gradient, so a crop and a scale differ.
    for x in range(width):
        image.putpixel((x, 0), (x % 256, 0, 0, 255))
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg(width: int = 64, height: int = 48) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def animated_gif(width: int = 64, height: int = 48, frames: int = 3) -> bytes:
    from PIL import Image

    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
    images = [Image.new("RGB", (width, height), colors[i % len(colors)]) for i in range(frames)]
    buffer = io.BytesIO()
    images[0].save(
        buffer, format="GIF", save_all=True, append_images=images[1:], duration=100, loop=0
    )
    return buffer.getvalue()


def image_info(data: bytes) -> tuple[str, tuple[int, int], int]:
    """(format, size, frames) of an image, as Pillow reads it."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return str(image.format), image.size, int(getattr(image, "n_frames", 1))


# -- Ogg (RFC 3533) ------------------------------------------------------------------------


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_CRC = _crc_table()


def ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[((crc >> 24) & 0xFF) ^ byte]
    return crc


def _page(packet: bytes, *, header_type: int, granule: int, serial: int, sequence: int) -> bytes:
    lacing = [255] * (len(packet) // 255) + [len(packet) % 255]
    header = struct.pack(
        "<4sBBqIIIB", b"OggS", 0, header_type, granule, serial, sequence, 0, len(lacing)
    )
    page = header + bytes(lacing) + packet
    crc = ogg_crc(page)
    return page[:22] + struct.pack("<I", crc) + page[26:]


def ogg_opus() -> bytes:
    serial = 0x0C0FFEE
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 7) + b"concord" + struct.pack("<I", 0)
    silence = b"\xf8\xff\xfe"  # one 20 ms CELT frame of silence (TOC config 31, mono)
    return (
        _page(head, header_type=0x02, granule=0, serial=serial, sequence=0)
        + _page(tags, header_type=0x00, granule=0, serial=serial, sequence=1)
        + _page(silence, header_type=0x04, granule=312 + 960, serial=serial, sequence=2)
    )


def ogg_pages_valid(data: bytes) -> bool:
    """Every page's CRC checks out (the test's own check that ``ogg_opus`` is sound)."""
    pos = 0
    while pos < len(data):
        if data[pos : pos + 4] != b"OggS":
            return False
        count = data[pos + 26]
        lacing = data[pos + 27 : pos + 27 + count]
        end = pos + 27 + count + sum(lacing)
        page = data[pos:end]
        stored = struct.unpack("<I", page[22:26])[0]
        if ogg_crc(page[:22] + b"\0\0\0\0" + page[26:]) != stored:
            return False
        pos = end
    return pos == len(data)
