"""``GET /_matrix/key/v2/server``: publishing this server's signing keys.

spec: server-server "Publishing Keys" — the response is signed by every key it
lists, and ``valid_until_ts`` tells peers how long they may cache it.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeserver.api.responses import json_response
from homeserver.clock import Clock
from homeserver.http import web
from homeserver.protocol.canonical import JsonDict
from homeserver.protocol.signing import SigningKey, make_server_keys_response


@dataclass
class KeyServer:
    server_name: str
    signing_key: SigningKey
    valid_for_ms: int
    clock: Clock
    _cached: JsonDict | None = None
    _cached_until: int = 0

    def response(self) -> JsonDict:
        """The signed key document; re-signed once half its validity has passed."""
        now = self.clock.time_ms()
        if self._cached is None or now >= self._cached_until:
            valid_until = now + self.valid_for_ms
            self._cached = make_server_keys_response(self.signing_key, valid_until_ts=valid_until)
            self._cached_until = now + self.valid_for_ms // 2
        return self._cached


KEY_SERVER = web.AppKey("key_server", KeyServer)


async def server_keys(request: web.Request) -> web.Response:
    return json_response(request.app[KEY_SERVER].response())


def setup(app: web.Application, key_server: KeyServer) -> None:
    app[KEY_SERVER] = key_server
    app.add_routes(
        [
            web.get("/_matrix/key/v2/server", server_keys),
            # Deprecated form with a key id; the whole document answers it too.
            web.get("/_matrix/key/v2/server/{key_id}", server_keys),
        ]
    )
