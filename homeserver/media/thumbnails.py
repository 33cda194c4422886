"""Thumbnails (spec: client-server "Thumbnails"), made with Pillow in a worker thread.

A request (width, height, method) is served from a *box*: the smallest of the standard
sizes the spec lists that is at least as large as asked for (those are generated once
and kept), else exactly the size asked for (generated on every request, not kept: a
client cannot fill the disk with sizes of its choosing).

- ``scale`` keeps the aspect ratio and fits the image within the box;
- ``crop`` takes the largest centred region with the box's aspect ratio, then scales it
  down to the box.

Neither ever upscales (spec: "Servers MUST NOT upscale thumbnails under any
circumstance"). Content no larger than the request is served as it is, when it is
already a thumbnail format (spec: "servers should return the original content").
Animated GIF/WebP/PNG stay animated when ``animated=true`` (as WebP, which the spec
prefers), otherwise the first frame is used.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .sniff import SAFE_FORMATS, pil_image

SCALE = "scale"
CROP = "crop"
METHODS = (SCALE, CROP)

# spec: "Servers SHOULD produce thumbnails with the following dimensions and methods".
STANDARD_SIZES = (
    (32, 32, CROP),
    (96, 96, CROP),
    (320, 240, SCALE),
    (640, 480, SCALE),
    (800, 600, SCALE),
)

# An animation is thumbnailed frame by frame; past these it is thumbnailed as a still.
MAX_ANIMATED_FRAMES = 300
MAX_ANIMATED_PIXELS = 200_000_000  # frames x pixels decoded

# What a thumbnail may be (spec: the Content-Type enum of the thumbnail response).
_OUTPUT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
_MPO = "MPO"  # multi-picture JPEG (phone cameras): served as JPEG


class CannotThumbnail(Exception):
    """Not an image Pillow can read (spec: 400 "Cannot generate thumbnails")."""


class ImageTooLarge(Exception):
    """Over ``max_image_pixels`` (spec: 413 M_TOO_LARGE)."""


@dataclass(frozen=True, slots=True)
class Box:
    width: int
    height: int
    method: str
    standard: bool  # one of STANDARD_SIZES: kept on disk once generated


def choose_box(width: int, height: int, method: str) -> Box:
    """The box a request for ``width`` x ``height`` is served from."""
    fits = [
        (w, h)
        for w, h, m in STANDARD_SIZES
        if m == method
        and w >= width
        and h >= height
        # crop answers in the aspect ratio asked for
        and (method == SCALE or w * height == h * width)
    ]
    if fits:
        w, h = min(fits, key=lambda size: size[0] * size[1])
        return Box(w, h, method, True)
    return Box(width, height, method, False)


@dataclass(frozen=True, slots=True)
class Thumbnail:
    data: bytes
    content_type: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Original:
    """Serve the content itself, as ``content_type`` (the format Pillow found)."""

    content_type: str


def scaled_size(width: int, height: int, box: Box) -> tuple[int, int]:
    """``scale``: within the box, aspect kept, never larger than the image."""
    factor = min(box.width / width, box.height / height)
    if factor >= 1:
        return width, height
    return max(1, round(width * factor)), max(1, round(height * factor))


def crop_region(width: int, height: int, box: Box) -> tuple[int, int, int, int]:
    """``crop``: the centred region (left, top, right, bottom) with the box's aspect."""
    if width * box.height > height * box.width:  # wider than the box: trim the sides
        region_w, region_h = max(1, round(height * box.width / box.height)), height
    else:
        region_w, region_h = width, max(1, round(width * box.height / box.width))
    left, top = (width - region_w) // 2, (height - region_h) // 2
    return left, top, left + region_w, top + region_h


def cropped_size(region: tuple[int, int, int, int], box: Box) -> tuple[int, int]:
    region_w, region_h = region[2] - region[0], region[3] - region[1]
    if region_w <= box.width:
        return region_w, region_h  # never upscale
    return box.width, box.height


def render(
    path: Path,
    box: Box,
    *,
    requested: tuple[int, int],
    animated: bool,
    max_pixels: int,
) -> Thumbnail | Original:
    """Blocking: read the image at ``path`` and thumbnail it into ``box``."""
    image = pil_image()
    try:
        im = image.open(path, formats=SAFE_FORMATS)
    except image.DecompressionBombError as exc:
        raise ImageTooLarge() from exc
    except Exception as exc:
        raise CannotThumbnail() from exc
    with im:
        width, height = im.size
        if width * height > max_pixels:
            raise ImageTooLarge()
        source_format = _MPO if im.format == _MPO else str(im.format)
        frames = int(getattr(im, "n_frames", 1))
        is_animated = bool(getattr(im, "is_animated", False)) and frames > 1
        animate = (
            animated
            and is_animated
            and frames <= MAX_ANIMATED_FRAMES
            and frames * width * height <= MAX_ANIMATED_PIXELS
        )
        own_type = "image/jpeg" if source_format == _MPO else _OUTPUT_TYPES.get(source_format)
        small = width <= requested[0] and height <= requested[1]
        if small and own_type is not None and (animate or not is_animated):
            return Original(own_type)
        try:
            if animate:
                return _animated(im, box)
            return _still(im, box, source_format)
        except (ImageTooLarge, CannotThumbnail):
            raise
        except Exception as exc:  # a truncated or corrupt file shows when decoded
            raise CannotThumbnail() from exc


def _resize(frame: Any, box: Box) -> Any:
    image = pil_image()
    width, height = frame.size
    if box.method == CROP:
        region = crop_region(width, height, box)
        size = cropped_size(region, box)
        return frame.resize(size, image.Resampling.LANCZOS, box=region)
    size = scaled_size(width, height, box)
    if size == (width, height):
        return frame.copy()
    return frame.resize(size, image.Resampling.LANCZOS)


def _has_alpha(frame: Any) -> bool:
    return frame.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        frame.mode == "P" and "transparency" in frame.info
    )


def _still(im: Any, box: Box, source_format: str) -> Thumbnail:
    from PIL import ImageOps

    im.seek(0)
    frame = ImageOps.exif_transpose(im)  # phone photos: the way they were taken
    frame = frame.convert("RGBA" if _has_alpha(frame) else "RGB")
    out = _resize(frame, box)
    buffer = io.BytesIO()
    if source_format in ("JPEG", _MPO) and out.mode == "RGB":
        out.save(buffer, format="JPEG", quality=80, optimize=True)
        content_type = "image/jpeg"
    else:
        out.save(buffer, format="PNG", optimize=False)
        content_type = "image/png"
    return Thumbnail(buffer.getvalue(), content_type, out.width, out.height)


def _animated(im: Any, box: Box) -> Thumbnail:
    from PIL import ImageSequence, features

    frames: list[Any] = []
    durations: list[int] = []
    for frame in ImageSequence.Iterator(im):
        durations.append(int(frame.info.get("duration", im.info.get("duration", 100)) or 100))
        frames.append(_resize(frame.convert("RGBA"), box))
    loop = int(im.info.get("loop", 0))
    buffer = io.BytesIO()
    first, rest = frames[0], frames[1:]
    # spec: "Servers SHOULD prefer to return image/webp thumbnails when supporting animation."
    if features.check("webp"):
        first.save(
            buffer,
            format="WEBP",
            save_all=True,
            append_images=rest,
            duration=durations,
            loop=loop,
            quality=80,
        )
        content_type = "image/webp"
    else:
        first.save(
            buffer,
            format="GIF",
            save_all=True,
            append_images=rest,
            duration=durations,
            loop=loop,
            disposal=2,
        )
        content_type = "image/gif"
    return Thumbnail(buffer.getvalue(), content_type, first.width, first.height)
