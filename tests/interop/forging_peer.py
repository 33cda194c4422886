"""A tiny test-only federation server that joins a room on a target homeserver and then
sends it PDUs of its own making, forged ones included.

It serves ``GET /_matrix/key/v2/server`` (its own ed25519 key) over TLS as
``localhost:<port>``, accepts whatever the target pushes to it (``/send`` and the rest get
an empty 200 or a 404), and talks to the target with ``X-Matrix``-signed requests:

    with ForgingPeer(port, cert, key, target_name, target_url) as forger:
        room_version, state = forger.join(room_id, "@mallory:" + forger.server_name)
        event = forger.build(room_id, sender, "m.room.message", {...})
        forger.send_transaction([event.pdu])

Blocking and stdlib-only (http.server in a thread, urllib for requests), so a test can
drive it between client calls. Only loopback.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from homeserver.protocol.builder import build_event
from homeserver.protocol.canonical import JsonDict
from homeserver.protocol.events import Event, compute_event_id
from homeserver.protocol.room_versions import RoomVersion, room_version
from homeserver.protocol.signing import (
    SigningKey,
    hash_and_sign_event,
    make_server_keys_response,
    sign_json,
)

from .processes import LOOPBACK

SUPPORTED_VERSIONS = ("10", "11", "12")


class FederationError(AssertionError):
    def __init__(self, status: int, body: Any, what: str) -> None:
        super().__init__(f"{what}: HTTP {status} {body}")
        self.status = status
        self.body = body


def x_matrix_header(
    key: SigningKey, destination: str, method: str, uri: str, content: Any = None
) -> str:
    """spec: server-server "Request Authentication" — the request object, signed."""
    request: JsonDict = {
        "method": method,
        "uri": uri,
        "origin": key.server_name,
        "destination": destination,
    }
    if content is not None:
        request["content"] = content
    sig = sign_json(request, key)["signatures"][key.server_name][key.key_id]
    return (
        f'X-Matrix origin="{key.server_name}",destination="{destination}",'
        f'key="{key.key_id}",sig="{sig}"'
    )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _reply(self, status: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _drain(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def do_GET(self) -> None:
        self._drain()
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/_matrix/key/v2/server"):
            self._reply(200, self.server.peer.keys_response())
        else:
            self._reply(404, {"errcode": "M_UNRECOGNIZED", "error": "forging peer"})

    def do_PUT(self) -> None:
        self._drain()
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/_matrix/federation/v1/send/"):
            self._reply(200, {"pdus": {}})  # whatever the target pushes is ignored
        else:
            self._reply(404, {"errcode": "M_UNRECOGNIZED", "error": "forging peer"})

    do_POST = do_PUT

    def log_message(self, format: str, *args: Any) -> None:
        self.server.peer.requests.append(format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    peer: ForgingPeer


class ForgingPeer:
    def __init__(
        self,
        port: int,
        cert: Path,
        key: Path,
        target_name: str,
        target_url: str,
        signing_key: SigningKey | None = None,
    ) -> None:
        self.port = port
        self.server_name = f"localhost:{port}"
        self.key = signing_key or SigningKey.generate(self.server_name)
        self.target_name = target_name
        self.target_url = target_url.rstrip("/")
        self.requests: list[str] = []  # what the target asked of us (for failure messages)
        self._tls_server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._tls_server.load_cert_chain(cert, key)
        self._tls_client = ssl.create_default_context()
        self._tls_client.check_hostname = False
        self._tls_client.verify_mode = ssl.CERT_NONE  # the target's certificate is self-signed
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        # per room: version, known state (type, state_key) -> event, and the DAG's tip
        self.rooms: dict[str, tuple[RoomVersion, dict[tuple[str, str], JsonDict]]] = {}
        self.tips: dict[str, tuple[list[str], int]] = {}

    # -- serving --------------------------------------------------------------------------

    def keys_response(self) -> JsonDict:
        valid_until = int(time.time() * 1000) + 3600_000
        return make_server_keys_response(self.key, valid_until_ts=valid_until)

    def __enter__(self) -> ForgingPeer:
        httpd = _Server((LOOPBACK, self.port), _Handler)
        httpd.peer = self
        httpd.socket = self._tls_server.wrap_socket(httpd.socket, server_side=True)
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    # -- requests to the target -----------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: Sequence[tuple[str, str]] = (),
        timeout: float = 30.0,
    ) -> Any:
        uri = path + ("?" + urllib.parse.urlencode(query) if query else "")
        req = urllib.request.Request(
            self.target_url + uri,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
        )
        req.add_header("Content-Type", "application/json")
        req.add_header(
            "Authorization", x_matrix_header(self.key, self.target_name, method, uri, body)
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self._tls_client) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise FederationError(exc.code, exc.read()[:500], f"{method} {path}") from None

    def join(self, room_id: str, user_id: str) -> JsonDict:
        """make_join + send_join (v2); returns the signed join event."""
        q = urllib.parse.quote
        template = self.request(
            "GET",
            f"/_matrix/federation/v1/make_join/{q(room_id, safe='')}/{q(user_id, safe='')}",
            query=[("ver", v) for v in SUPPORTED_VERSIONS],
        )
        version = room_version(template.get("room_version", "1"))
        pdu = dict(template["event"])
        pdu["origin_server_ts"] = int(time.time() * 1000)
        signed = hash_and_sign_event(pdu, self.key, version)
        event_id = compute_event_id(signed, version)
        reply = self.request(
            "PUT",
            f"/_matrix/federation/v2/send_join/{q(room_id, safe='')}/{q(event_id, safe='')}",
            signed,
        )
        state = {(ev["type"], ev["state_key"]): ev for ev in reply["state"]}
        state[("m.room.member", user_id)] = signed
        self.rooms[room_id] = (version, state)
        self.tips[room_id] = ([event_id], signed["depth"])
        return signed

    def build(
        self,
        room_id: str,
        sender: str,
        event_type: str,
        content: Mapping[str, Any],
        *,
        state_key: str | None = None,
        advance: bool = True,
    ) -> Event:
        """A properly hashed and signed event on top of the room's tip, with the usual auth
        events from the state known at the join (``advance``: it becomes the new tip)."""
        version, state = self.rooms[room_id]
        wanted = [("m.room.power_levels", ""), ("m.room.member", sender)]
        if not version.room_id_from_create_event:  # spec: rooms/v12 — create not listed
            wanted.insert(0, ("m.room.create", ""))
        auth = [
            compute_event_id(state[k], version)
            if "event_id" not in state[k]
            else state[k]["event_id"]
            for k in wanted
            if k in state
        ]
        prev, depth = self.tips[room_id]
        event = build_event(
            version=version,
            room_id=room_id,
            sender=sender,
            event_type=event_type,
            content=content,
            prev_events=prev,
            auth_events=auth,
            depth=depth + 1,
            origin_server_ts=int(time.time() * 1000),
            key=self.key,
            state_key=state_key,
        )
        if advance:
            self.tips[room_id] = ([event.event_id], depth + 1)
        return event

    def send_transaction(self, pdus: Sequence[JsonDict]) -> JsonDict:
        """PUT /send; returns the per-PDU results (``{event_id: {} or {"error": ...}}``)."""
        body = {
            "origin": self.server_name,
            "origin_server_ts": int(time.time() * 1000),
            "pdus": list(pdus),
            "edus": [],
        }
        txn = uuid.uuid4().hex
        reply = self.request("PUT", f"/_matrix/federation/v1/send/{txn}", body, timeout=60)
        return reply.get("pdus", {})  # type: ignore[no-any-return]
