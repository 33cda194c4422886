"""The browser-test harness: a real Concord (homeserver + SFU processes, generated configs,
free loopback ports, registration open, web/dist served at ``/``) and Debian's Chromium
driven by Playwright's **sync** API (tests in tests/web/ are plain ``def`` functions).

    def test_something(stack: Stack, browser: Browser) -> None:
        alice = new_user_page(stack, browser, "alice")   # registered and logged in
        alice.page.get_by_role("button", name="Create a guild").click()
        screenshot(alice.page, "guild-list")              # build/screenshots/guild-list.png

Chromium is /usr/bin/chromium (``make chromium`` installs it; CONCORD_CHROMIUM names
another binary); Playwright never downloads a browser. It runs headless with fake media
devices: getUserMedia gives a test-pattern camera and a beeping microphone, and
getDisplayMedia is granted at once (the whole screen) with no picker.

Without Chromium or the Playwright package the browser tests skip, unless CI=true or
REQUIRE_BROWSER=1 (``make test`` sets it): then they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tests.support.waiting import free_port

from .build import REPO
from .build import REQUIRE_BROWSER as REQUIRE_BROWSER  # re-exported for test modules
from .build import ensure_web_built as ensure_web_built
from .build import unavailable as unavailable

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

SCREENSHOTS = REPO / "build" / "screenshots"
PASSWORD = "correct horse battery staple"
# Where the web client keeps its session (web/src/matrix, W1): set by the fallback login.
SESSION_STORAGE_KEY = "concord.session"

CHROMIUM_ARGS = [
    # Camera, microphone and screen capture are granted without a prompt; the camera is
    # a moving test pattern, the microphone a periodic beep.
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    # getDisplayMedia picks the entire screen by itself (no picker in headless mode).
    "--auto-select-desktop-capture-source=Entire screen",
    # Remote audio/video elements play without a click.
    "--autoplay-policy=no-user-gesture-required",
    # Two pages of one test share the machine: keep background pages' timers running.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]


def chromium_path() -> str | None:
    configured = os.environ.get("CONCORD_CHROMIUM")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


# --- the servers -----------------------------------------------------------------------


@dataclass
class Stack:
    """A running homeserver (+ SFU) and what tests need to reach them."""

    base_url: str  # the homeserver, which also serves the web client at /
    server_name: str
    sfu_url: str
    directory: Path
    federation_port: int = 0
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    commands: dict[str, tuple[list[str], subprocess.Popen[bytes]]] = field(default_factory=dict)

    def api(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        """One client-server API call (JSON in, JSON out); raises on a non-2xx."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from exc

    def register(self, localpart: str, password: str = PASSWORD) -> dict[str, Any]:
        """A new account through /register (spec: client-server "Account registration")."""
        body = {
            "username": localpart,
            "password": password,
            "auth": {"type": "m.login.dummy"},
            "initial_device_display_name": "browser test",
        }
        reply: dict[str, Any] = self.api("POST", "/_matrix/client/v3/register", body)
        return reply

    def start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        """Start ``python <args>`` as process ``name`` (log in ``<name>.log``), tracked
        so the stack stops it."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.directory / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, *args], cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        self.processes.append(proc)
        self.commands[name] = (args, proc)
        return proc

    def restart_sfu(self) -> None:
        """Stop the SFU process and start it again on the same port (a crash, or an
        upgrade): calls in progress lose their socket and must reconnect."""
        args, proc = self.commands["sfu"]
        _stop(proc)
        self.processes.remove(proc)
        new = self.start("sfu", args)
        _wait_http(self.sfu_url + "/health", new, "the SFU")

    def logs(self) -> str:
        parts = []
        for name in ("homeserver.log", "sfu.log"):
            path = self.directory / name
            if path.exists():
                parts.append(f"--- {name} (tail) ---\n" + path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)


def _run(args: list[str], cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def _wait_http(url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer {url} within {timeout} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """By pid: SIGTERM, then SIGKILL after 15 s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


def _configure(
    config: Path, database_dsn: str | None, web_dir: Path, peers: dict[str, str] | None = None
) -> None:
    """The generated config, opened for tests: registration without a token, fast
    password hashing, no rate limits (two browsers act faster than people), the client."""
    text = config.read_text()
    text = text.replace("enable_registration: false", "enable_registration: true")
    if database_dsn is not None:
        text = text.replace(
            'database:\n  engine: sqlite\n  path: "concord.db"',
            f'database:\n  engine: postgres\n  dsn: "{database_dsn}"',
        )
        assert database_dsn in text, "generate-config's database section changed"
    text += "bcrypt_rounds: 4\nrate_limits:\n  enabled: false\n"
    text += f"web_client_dir: {json.dumps(str(web_dir))}\n"
    # Federation with other test servers on this machine (self-signed, loopback).
    overrides = "".join(f'    "{name}": "{target}"\n' for name, target in (peers or {}).items())
    text += (
        "federation:\n  verify_certificates: false\n"
        '  ip_range_whitelist: ["127.0.0.0/8", "::1/128"]\n'
        + (f"  server_overrides:\n{overrides}" if overrides else "")
    )
    config.write_text(text)


def _open_sfu_discovery(sfu_config: Path) -> None:
    """The SFU verifies OpenID tokens of users of other test servers: loopback, self-signed."""
    data = yaml.safe_load(sfu_config.read_text())
    data["discovery"].update({"verify_tls": False, "allow_private_addresses": True})
    sfu_config.write_text(yaml.safe_dump(data, sort_keys=False))


@contextmanager
def running_stack(directory: Path, database_dsn: str | None = None) -> Iterator[Stack]:
    """Generate configs in ``directory``, start the homeserver and the SFU, yield, and
    stop both by pid whatever happens."""
    port, fed_port, sfu_port = free_port(), free_port(), free_port()
    server_name = f"localhost:{port}"
    hs_config, sfu_config = directory / "config.yaml", directory / "sfu.yaml"
    _run(
        ["-m", "homeserver", "generate-config", "--config", str(hs_config), "--server-name",
         server_name, "--port", str(port), "--federation-port", str(fed_port)],
        directory,
    )  # fmt: skip
    _configure(hs_config, database_dsn, ensure_web_built())
    _run(
        ["-m", "sfu", "generate", "--config", str(sfu_config), "--homeserver-config",
         str(hs_config), "--port", str(sfu_port)],
        directory,
    )  # fmt: skip
    _open_sfu_discovery(sfu_config)
    stack = Stack(
        base_url=f"http://127.0.0.1:{port}",
        server_name=server_name,
        sfu_url=f"http://127.0.0.1:{sfu_port}",
        directory=directory,
        federation_port=fed_port,
    )
    try:
        hs_proc = stack.start("homeserver", ["-m", "homeserver", "run", "--config", str(hs_config)])
        sfu_proc = stack.start("sfu", ["-m", "sfu", "run", "--config", str(sfu_config)])
        try:
            _wait_http(stack.base_url + "/_matrix/client/versions", hs_proc, "the homeserver")
            _wait_http(stack.sfu_url + "/health", sfu_proc, "the SFU")
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{stack.logs()}") from None
        yield stack
    finally:
        for proc in reversed(stack.processes):
            _stop(proc)


# --- the browser -----------------------------------------------------------------------


def require_browser() -> str:
    """Chromium's path; skips (or fails where required) without it or Playwright."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("the playwright package is not installed (pip install -e '.[test]')")
    executable = chromium_path()
    if executable is None:
        unavailable("Chromium not found (make chromium, or CONCORD_CHROMIUM=/path)")
    return executable


@contextmanager
def launched_browser() -> Iterator[tuple[Playwright, Browser]]:
    """Playwright (sync API) and a headless Chromium; while open, this thread has a
    running event loop: keep it out of asyncio tests (module-scoped fixture)."""
    executable = require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield playwright, browser
        finally:
            browser.close()


@dataclass
class UserPage:
    """A browser context (its own storage: a separate person) signed in as one user."""

    context: BrowserContext
    page: Page
    user_id: str
    localpart: str
    password: str
    access_token: str
    device_id: str


def unique_localpart(name: str) -> str:
    """``name`` made unique in the stack, which the whole test session shares."""
    return f"{name.lower()}-{uuid.uuid4().hex[:6]}"


def new_context(stack: Stack, browser: Browser) -> BrowserContext:
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 1280, "height": 800})
    context.grant_permissions(["camera", "microphone"], origin=stack.base_url)
    context.set_default_timeout(15_000)
    return context


def new_user_page(stack: Stack, browser: Browser, name: str) -> UserPage:
    """A new user registered through the API, then signed in to the web client in a
    fresh browser context: through the login screen when the client shows one (labels
    "Username"/"Password", button "Log in"), else by handing the client its session in
    localStorage (``SESSION_STORAGE_KEY``). The page is open at ``/``."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    localpart = unique_localpart(name)
    account = stack.register(localpart)
    context = new_context(stack, browser)
    page = context.new_page()
    page.goto("/")
    page.wait_for_load_state("domcontentloaded")
    login = page.get_by_label("Password")
    try:
        login.wait_for(state="visible", timeout=5_000)
        has_login_screen = True
    except PlaywrightTimeout:  # no login screen (yet): the client has no UI for it
        has_login_screen = False
    if has_login_screen:
        homeserver = page.get_by_label("Homeserver")
        if homeserver.count() > 0:
            homeserver.fill(stack.base_url)
        page.get_by_label("Username").fill(localpart)
        login.fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        login.wait_for(state="hidden", timeout=20_000)
        token, device = account["access_token"], account["device_id"]
    else:
        session = {
            "baseUrl": stack.base_url,
            "userId": account["user_id"],
            "accessToken": account["access_token"],
            "deviceId": account["device_id"],
        }
        page.evaluate(
            "([key, value]) => localStorage.setItem(key, value)",
            [SESSION_STORAGE_KEY, json.dumps(session)],
        )
        page.reload()
        token, device = account["access_token"], account["device_id"]
    return UserPage(context, page, account["user_id"], localpart, PASSWORD, token, device)


def screenshot(page: Page, name: str) -> Path:
    """``build/screenshots/<name>.png`` (kept out of git), for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
