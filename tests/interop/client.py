"""A thin, blocking Matrix client (stdlib only) for driving the interop peers the way a
client would. Every request and every wait is bounded in time.

    alice = MxUser.register(peer, "alice")
    room = alice.create_room(preset="public_chat", room_version="11")
    bob.join(room, via=alice.server_name)
    event_id = alice.send_text(room, "hello")
    bob.wait_for_event(room, event_id)
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol, TypeVar

JsonDict = dict[str, Any]
T = TypeVar("T")

V3 = "/_matrix/client/v3"


class Waits:
    """How long a test waits for something to arrive over federation (seconds). Tests
    expected to fail (Concord variants not ready yet) wait less: see conftest."""

    default = 20.0


class Peer(Protocol):
    """A homeserver process of the interop tests (Synapse or Concord)."""

    kind: str
    server_name: str
    client_url: str

    @property
    def running(self) -> bool: ...

    def start(self, timeout: float = ...) -> object: ...

    def stop(self) -> object: ...


class ApiError(AssertionError):
    def __init__(self, status: int, body: Any, what: str) -> None:
        super().__init__(f"{what}: HTTP {status} {body}")
        self.status = status
        self.body = body

    @property
    def errcode(self) -> str | None:
        return self.body.get("errcode") if isinstance(self.body, dict) else None


def q(part: str) -> str:
    return urllib.parse.quote(part, safe="")


def request(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = None,
    query: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, Any]:
    """One call; ``path`` is relative to /_matrix/client/v3 unless it starts with /_matrix."""
    url = base + (path if path.startswith("/_matrix") else V3 + path)
    if query:
        url += "?" + urllib.parse.urlencode(query)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw or b"{}")
    except ValueError:
        return status, {"raw": raw[:200].decode("utf-8", "replace")}


def wait_until(check: Callable[[], T | None], what: str, timeout: float | None = None) -> T:
    """Call ``check`` (every 0.2 s) until it returns something other than None/False."""
    timeout = timeout or Waits.default
    end = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None and result is not False:
            return result
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


class MxUser:
    def __init__(self, peer: Peer, user_id: str, token: str, device_id: str) -> None:
        self.peer = peer
        self.base = peer.client_url
        self.server_name = peer.server_name
        self.user_id = user_id
        self.token = token
        self.device_id = device_id
        self.since: str | None = None

    def __repr__(self) -> str:
        return f"<{self.user_id} on {self.peer.kind}>"

    @classmethod
    def register(cls, peer: Peer, localpart: str, password: str = "interop-pw") -> MxUser:
        name = f"{localpart}-{uuid.uuid4().hex[:8]}"
        status, body = request(
            peer.client_url,
            "POST",
            "/register",
            {"username": name, "password": password, "auth": {"type": "m.login.dummy"}},
        )
        if status != 200:
            raise ApiError(status, body, f"register {name} on {peer.server_name}")
        user = cls(peer, body["user_id"], body["access_token"], body.get("device_id", ""))
        user.since = user.ok("GET", "/sync", query={"timeout": "0"})["next_batch"]
        return user

    def login_again(self, password: str = "interop-pw") -> MxUser:
        """A second device of this user (a new device id, as a new client would get)."""
        body = self.ok(
            "POST",
            "/login",
            {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": self.user_id},
                "password": password,
            },
        )
        return MxUser(self.peer, self.user_id, body["access_token"], body["device_id"])

    # -- requests ---------------------------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return request(self.base, method, path, body, token=self.token, **kw)

    def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        status, reply = self.call(method, path, body, **kw)
        if status != 200:
            raise ApiError(status, reply, f"{self.user_id}: {method} {path}")
        return reply

    def create_room(self, **body: Any) -> str:
        return str(self.ok("POST", "/createRoom", body)["room_id"])

    def join(self, room: str, via: str) -> str:
        reply = self.ok("POST", f"/join/{q(room)}", {}, query={"server_name": via}, timeout=60)
        return str(reply["room_id"])

    def send(self, room: str, event_type: str, content: JsonDict) -> str:
        path = f"/rooms/{q(room)}/send/{q(event_type)}/{uuid.uuid4().hex}"
        return str(self.ok("PUT", path, content)["event_id"])

    def send_text(self, room: str, text: str) -> str:
        return self.send(room, "m.room.message", {"msgtype": "m.text", "body": text})

    def put_state(self, room: str, event_type: str, content: JsonDict, state_key: str = "") -> str:
        path = f"/rooms/{q(room)}/state/{q(event_type)}/{q(state_key)}"
        return str(self.ok("PUT", path, content)["event_id"])

    def get_state(self, room: str, event_type: str, state_key: str = "") -> Any:
        status, body = self.call("GET", f"/rooms/{q(room)}/state/{q(event_type)}/{q(state_key)}")
        return body if status == 200 else None

    def membership_call(self, room: str, action: str, **body: Any) -> Any:
        return self.ok("POST", f"/rooms/{q(room)}/{action}", body, timeout=60)

    def joined_members(self, room: str) -> set[str]:
        return set(self.ok("GET", f"/rooms/{q(room)}/joined_members")["joined"])

    def event(self, room: str, event_id: str) -> JsonDict | None:
        status, body = self.call("GET", f"/rooms/{q(room)}/event/{q(event_id)}")
        return body if status == 200 else None

    # -- reading the room -------------------------------------------------------------------

    def messages(self, room: str, *, limit: int = 100, max_pages: int = 100) -> Iterator[JsonDict]:
        """Every event of the room's timeline, newest first, through /messages dir=b."""
        query = {"dir": "b", "limit": str(limit)}
        for _ in range(max_pages):
            page = self.ok("GET", f"/rooms/{q(room)}/messages", query=query)
            yield from page.get("chunk", [])
            end = page.get("end")
            if not end or not page.get("chunk"):
                return
            query = {**query, "from": end}
        raise AssertionError(f"/messages of {room} did not end within {max_pages} pages")

    def texts(self, room: str, prefix: str) -> list[str]:
        """Bodies of the m.room.message events starting with ``prefix``, oldest first."""
        found = [
            ev["content"].get("body", "")
            for ev in self.messages(room)
            if ev.get("type") == "m.room.message"
            and str(ev.get("content", {}).get("body", "")).startswith(prefix)
        ]
        return found[::-1]

    def wait_for_event(self, room: str, event_id: str, timeout: float | None = None) -> JsonDict:
        return wait_until(
            lambda: self.event(room, event_id), f"{event_id} at {self.user_id}", timeout
        )

    def sync_until(
        self, check: Callable[[JsonDict], T | None], what: str, timeout: float | None = None
    ) -> T:
        """Long-poll /sync from the last position until ``check(batch)`` returns a value."""
        timeout = timeout or Waits.default
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.user_id}: timed out after {timeout:.0f} s: {what}")
            query = {"timeout": str(int(min(left, 10.0) * 1000))}
            if self.since:
                query["since"] = self.since
            batch = self.ok("GET", "/sync", query=query, timeout=min(left, 10.0) + 15)
            self.since = batch["next_batch"]
            result = check(batch)
            if result is not None and result is not False:
                return result


def room_section(batch: JsonDict, room: str, section: str = "join") -> JsonDict:
    rooms: JsonDict = batch.get("rooms", {}).get(section, {})
    return rooms.get(room, {})  # type: ignore[no-any-return]
