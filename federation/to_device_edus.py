"""Send-to-device messages over federation (spec: server-server "Send-to-device
messaging", the ``m.direct_to_device`` EDU).

Out: ``PUT /sendToDevice`` messages for remote users are grouped by server and stored
in the sender's outbox, which a transaction empties only once the destination took it:
an unreachable server or a restart loses nothing. The message id is derived from the
sender's device and transaction id, so a client's retry is the same message.
In: messages from a user of the sending server to local users' devices (``*``: all of
them) are delivered like local ones; a message id seen before is not delivered again.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from typing import Any

from homeserver.clock import Clock
from homeserver.e2ee.to_device import MAX_ID_LENGTH, ToDeviceStream
from homeserver.logs import fields
from homeserver.storage.store import Store

from .edus import BadEdu, EduRegistry
from .sender.sender import FederationSender, domain_of

log = logging.getLogger(__name__)

EDU_TYPE = "m.direct_to_device"
JsonDict = dict[str, Any]


def message_id_for(sender: str, sender_device: str, txn_id: str) -> str:
    """32 characters (the spec's limit), the same for a retried client transaction."""
    digest = hashlib.sha256(f"{sender}\n{sender_device}\n{txn_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode("ascii")


class ToDeviceFederation:
    def __init__(
        self,
        sender: FederationSender,
        stream: ToDeviceStream,
        store: Store,
        clock: Clock,
        server_name: str,
    ) -> None:
        self.sender = sender
        self.stream = stream
        self.store = store
        self.clock = clock
        self.server_name = server_name

    def register(self, registry: EduRegistry) -> None:
        self.stream.remote_sink = self.queue_remote
        registry.register(EDU_TYPE, self.on_edu)

    async def queue_remote(
        self,
        sender: str,
        sender_device: str,
        event_type: str,
        txn_id: str,
        messages: dict[str, dict[str, JsonDict]],
    ) -> None:
        message_id = message_id_for(sender, sender_device, txn_id)
        by_server: dict[str, dict[str, dict[str, JsonDict]]] = {}
        for user_id, by_device in messages.items():
            by_server.setdefault(domain_of(user_id), {})[user_id] = by_device
        items = []
        for destination, server_messages in sorted(by_server.items()):
            if not self.sender.allowed(destination):
                log.info(
                    "to-device messages for a server we do not federate with dropped",
                    extra=fields(destination=destination),
                )
                continue
            content = {
                "sender": sender,
                "type": event_type,
                "message_id": message_id,
                "messages": server_messages,
            }
            items.append((destination, EDU_TYPE, message_id, content))
        if items:
            queued = await self.store.federation_sender.enqueue_outbox(items, self.clock.time_ms())
            self.sender.outbox_added(queued)

    async def on_edu(self, origin: str, content: dict[str, Any]) -> None:
        sender = content.get("sender")
        event_type = content.get("type")
        message_id = content.get("message_id")
        messages = content.get("messages")
        if not isinstance(sender, str) or domain_of(sender) != origin:
            raise BadEdu(f"sender {sender!r} is not a user of {origin}")
        if not isinstance(event_type, str) or not 0 < len(event_type) <= MAX_ID_LENGTH:
            raise BadEdu("`type` must be a string")
        if not isinstance(message_id, str) or not 0 < len(message_id) <= MAX_ID_LENGTH:
            raise BadEdu("`message_id` must be a string")
        if not isinstance(messages, dict):
            raise BadEdu("`messages` must be an object")
        local: dict[str, dict[str, JsonDict]] = {}
        for user_id, by_device in messages.items():
            if domain_of(user_id) != self.server_name:
                continue  # not ours to deliver
            if not isinstance(by_device, dict) or not all(
                isinstance(d, str) and isinstance(c, dict) for d, c in by_device.items()
            ):
                raise BadEdu(f"`messages.{user_id}` must map device ids to objects")
            local[user_id] = by_device
        await self.stream.receive_remote(sender, message_id, event_type, local)
