"""Does an upload's content match the type it claims?

Images are opened with Pillow (imported here, lazily: only an upload that claims an
image type loads it) restricted to the claimed format, their size read from the header
and checked against ``max_image_pixels``, their structure verified. Audio and video are
checked by their magic bytes (the container's signature). A type with no rule here is
taken as claimed: it is served as an attachment unless it is in the inline list
(``content.INLINE_TYPES``), which every type here with a rule covers.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from types import ModuleType

from .content import media_type

# Pillow plugins we let decode uploads: no EPS (Ghostscript), PDF, PSD, ... Each claimed
# image type is opened with its own formats only. (Multi-picture JPEGs from cameras
# open through the JPEG plugin and report the format "MPO".)
IMAGE_FORMATS: dict[str, tuple[str, ...]] = {
    "image/png": ("PNG",),
    "image/apng": ("PNG",),
    "image/jpeg": ("JPEG",),
    "image/jpg": ("JPEG",),
    "image/pjpeg": ("JPEG",),
    "image/gif": ("GIF",),
    "image/webp": ("WEBP",),
    "image/avif": ("AVIF",),
    "image/bmp": ("BMP",),
    "image/x-ms-bmp": ("BMP",),
    "image/tiff": ("TIFF",),
    "image/x-icon": ("ICO",),
    "image/vnd.microsoft.icon": ("ICO",),
}
SAFE_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "AVIF", "BMP", "TIFF", "ICO")


class BadContent(Exception):
    """The content is not what its Content-Type says."""


class TooManyPixels(Exception):
    """An image over ``max_image_pixels``."""


def pil_image() -> ModuleType:
    """``PIL.Image``, imported on first use (it costs megabytes of resident memory, and
    a server that is not handling images never loads it)."""
    from PIL import Image

    return Image


def check_image(data: bytes, formats: tuple[str, ...], max_pixels: int) -> None:
    image = pil_image()
    try:
        with image.open(io.BytesIO(data), formats=formats) as im:
            width, height = im.size
            if width * height > max_pixels:
                raise TooManyPixels()
            im.verify()
    except TooManyPixels:
        raise
    except image.DecompressionBombError as exc:
        raise TooManyPixels() from exc
    except Exception as exc:  # Pillow raises many kinds for a broken file
        raise BadContent() from exc


# -- magic bytes --------------------------------------------------------------------------


def _ogg(data: bytes) -> bool:
    return data[:4] == b"OggS"


def _id3(data: bytes) -> bool:
    return data[:3] == b"ID3"


def _mp3(data: bytes) -> bool:
    # An ID3 tag, or an MPEG audio frame header (11 sync bits).
    return _id3(data) or (len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


def _wav(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def _flac(data: bytes) -> bool:
    return data[:4] == b"fLaC" or _id3(data)


# ISO base media (MP4, M4A, QuickTime, 3GP): a box header; `ftyp` first in any modern
# file, older QuickTime files may begin with another top-level atom.
_ISO_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")


def _iso_bmff(data: bytes) -> bool:
    return data[4:8] in _ISO_BOXES


def _adts(data: bytes) -> bool:
    return len(data) >= 2 and data[0] == 0xFF and data[1] & 0xF6 == 0xF0


def _aac(data: bytes) -> bool:
    return _adts(data) or _id3(data) or data[:4] == b"ADIF" or _iso_bmff(data)


def _ebml(data: bytes) -> bool:  # Matroska, WebM
    return data[:4] == b"\x1a\x45\xdf\xa3"


def _avi(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"AVI "


def _mpeg_video(data: bytes) -> bool:
    return data[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")


def _amr(data: bytes) -> bool:
    return data[:5] == b"#!AMR"


MAGIC: dict[str, Callable[[bytes], bool]] = {
    "audio/ogg": _ogg,
    "audio/opus": _ogg,
    "audio/vorbis": _ogg,
    "video/ogg": _ogg,
    "application/ogg": _ogg,
    "audio/mpeg": _mp3,
    "audio/mp3": _mp3,
    "audio/mpeg3": _mp3,
    "audio/wav": _wav,
    "audio/wave": _wav,
    "audio/x-wav": _wav,
    "audio/x-pn-wav": _wav,
    "audio/vnd.wave": _wav,
    "audio/flac": _flac,
    "audio/x-flac": _flac,
    "audio/mp4": _iso_bmff,
    "audio/m4a": _iso_bmff,
    "audio/x-m4a": _iso_bmff,
    "audio/3gpp": _iso_bmff,
    "audio/aac": _aac,
    "audio/x-aac": _aac,
    "audio/webm": _ebml,
    "audio/x-matroska": _ebml,
    "audio/amr": _amr,
    "video/mp4": _iso_bmff,
    "video/quicktime": _iso_bmff,
    "video/3gpp": _iso_bmff,
    "video/x-m4v": _iso_bmff,
    "video/webm": _ebml,
    "video/x-matroska": _ebml,
    "video/x-msvideo": _avi,
    "video/avi": _avi,
    "video/mpeg": _mpeg_video,
}


def check_upload(data: bytes, content_type: str, max_pixels: int) -> None:
    """Raises ``BadContent`` or ``TooManyPixels``; blocking (Pillow), run it in a thread."""
    kind = media_type(content_type)
    formats = IMAGE_FORMATS.get(kind)
    if formats is not None:
        check_image(data, formats, max_pixels)
        return
    rule = MAGIC.get(kind)
    if rule is not None and not rule(data):
        raise BadContent()
