"""The harness itself, in a real browser: the homeserver serves the built client at `/`,
the app starts without errors, a user signs in, the page can use fake media devices,
and the SFU is announced to clients."""

from __future__ import annotations

from collections.abc import Callable

from .harness import Stack, UserPage, screenshot


def test_the_client_loads_and_a_user_signs_in(
    stack: Stack, user_page: Callable[[str], UserPage]
) -> None:
    alice = user_page("alice")
    errors: list[str] = []
    alice.page.on("pageerror", lambda exc: errors.append(str(exc)))
    alice.page.reload()
    alice.page.wait_for_load_state("networkidle")
    assert alice.page.title() == "Concord"
    assert alice.page.locator("#app").count() == 1
    assert errors == []
    assert alice.user_id.startswith("@alice-")
    # Fake devices: a camera with frames, a microphone, and the screen without a picker.
    tracks = alice.page.evaluate(
        """async () => {
            const cam = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
            const screen = await navigator.mediaDevices.getDisplayMedia({video: true});
            const kinds = [...cam.getTracks(), ...screen.getTracks()].map(t => t.kind);
            [...cam.getTracks(), ...screen.getTracks()].forEach(t => t.stop());
            return kinds;
        }"""
    )
    assert sorted(tracks) == ["audio", "video", "video"]
    well_known = stack.api("GET", "/.well-known/matrix/client")
    assert well_known["org.matrix.msc4143.rtc_foci"][0]["url"] == stack.sfu_url
    screenshot(alice.page, "harness-first-load")
