"""Attachments in the channel view (issue 10): an image and an audio file by the attach
button, an animated GIF by drag-and-drop onto the channel, each uploaded with a progress
bar and seen by the other person — the image and GIF inline (decoded by the browser),
the audio with a player that can load it."""

from __future__ import annotations

import base64
import io
import math
import struct
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .chat_setup import Chat, chat_in_guild
from .harness import Stack, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

pytest.importorskip("playwright")
from PIL import Image
from playwright.sync_api import expect


@pytest.fixture(scope="module")
def chat(stack: Stack, browser: Browser) -> Iterator[Chat]:
    with chat_in_guild(stack, browser, "Media") as c:
        yield c


def png(path: Path) -> Path:
    Image.new("RGB", (120, 80), (200, 40, 40)).save(path, "PNG")
    return path


def gif_bytes() -> bytes:
    colors = ((230, 60, 60), (60, 200, 90), (70, 110, 240))
    frames = [Image.new("RGB", (64, 64), c).convert("P") for c in colors]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        samples = (int(8000 * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(8000))
        w.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return path


def drop_file(page: Page, name: str, mime: str, data: bytes) -> None:
    """A file dragged from the desktop and dropped on the channel (DataTransfer events)."""
    page.evaluate(
        """([name, mime, b64]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, {type: mime}));
            const target = document.querySelector('.tl-list');
            for (const type of ['dragenter', 'dragover', 'drop']) {
                const init = {bubbles: true, cancelable: true, dataTransfer: dt};
                target.dispatchEvent(new DragEvent(type, init));
            }
        }""",
        [name, mime, base64.b64encode(data).decode()],
    )


def image_decoded(page: Page, alt: str) -> None:
    img = page.get_by_role("img", name=alt)
    expect(img).to_be_visible()
    page.wait_for_function(
        "alt => [...document.images].some(i => i.alt === alt && i.complete && i.naturalWidth > 0)",
        arg=alt,
        timeout=15_000,
    )


def test_image_gif_and_audio_reach_the_other_person(chat: Chat, tmp_path: Path) -> None:
    alice, bob = chat.alice.page, chat.bob.page

    # Slow the upload down a little so that the progress bar is there to be seen.
    def slow(route: Route) -> None:
        alice.wait_for_timeout(400)
        route.continue_()

    alice.route("**/_matrix/media/v3/upload**", slow)
    alice.get_by_label("Upload a file").set_input_files(str(png(tmp_path / "red.png")))
    expect(alice.get_by_label("Uploading red.png")).to_be_visible()
    image_decoded(bob, "red.png")
    expect(alice.get_by_label("Uploading red.png")).to_have_count(0)

    drop_file(alice, "dance.gif", "image/gif", gif_bytes())
    image_decoded(bob, "dance.gif")
    frames = bob.evaluate(
        "async () => { const i = [...document.images].find(i => i.alt === 'dance.gif');"
        " const r = await fetch(i.src); return (await r.blob()).type; }"
    )
    assert frames == "image/gif"  # served as a GIF, so the browser animates it

    alice.get_by_label("Upload a file").set_input_files(str(wav(tmp_path / "beep.wav")))
    audio = bob.get_by_label("Audio: beep.wav")
    expect(audio).to_be_visible()
    bob.wait_for_function(
        "() => { const a = document.querySelector('audio[aria-label=\"Audio: beep.wav\"]');"
        " return a && a.readyState >= 1 && a.duration > 0.9; }",
        timeout=15_000,
    )
    screenshot(bob, "chat-attachments")


def test_a_failed_upload_is_kept_and_retry_uploads_it(chat: Chat, tmp_path: Path) -> None:
    alice, bob = chat.alice.page, chat.bob.page
    chat.alice.context.set_offline(True)
    try:
        alice.get_by_label("Upload a file").set_input_files(str(png(tmp_path / "offline.png")))
        echo = alice.get_by_test_id("message").filter(has_text="offline.png")
        expect(echo.get_by_role("alert")).to_contain_text("Not sent")
    finally:
        chat.alice.context.set_offline(False)
    echo.get_by_role("button", name="Retry").click()
    image_decoded(bob, "offline.png")
    expect(echo.get_by_role("alert")).to_have_count(0)
