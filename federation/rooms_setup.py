"""Wiring of federation into rooms: inbound PDUs, joins, invites, backfill.

``homeserver.app`` calls ``setup`` after the client routes exist; the membership and
messages handlers and the pipeline get their federation hooks here.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeserver.api.client.rooms_common import RoomHandlers
from homeserver.clock import Clock
from homeserver.http import web
from homeserver.protocol.signing import SigningKey
from homeserver.rooms.pipeline import EventPipeline
from homeserver.rooms.remote_events import RemoteEvents
from homeserver.rooms.room_state import RoomStateCache
from homeserver.storage.store import Store

from . import room_routes
from .backfill import Backfiller
from .event_fetch import EventChecker, EventFetcher
from .inbound_pdus import PduHandler
from .invites import InviteClient, InviteServer
from .membership_handshakes import HandshakeClient, HandshakeServer
from .out_of_room import OutOfRoomMemberships
from .remote_membership import RemoteMembership
from .setup import FederationServices
from .transactions import AclCheck, EduHandler, TransactionHandler


@dataclass(frozen=True)
class RoomFederation:
    remote: RemoteEvents
    pdus: PduHandler
    transactions: TransactionHandler
    handshakes: HandshakeServer
    backfiller: Backfiller


def setup(
    app: web.Application,
    services: FederationServices,
    *,
    store: Store,
    rooms: RoomStateCache,
    pipeline: EventPipeline,
    handlers: RoomHandlers,
    signing_key: SigningKey,
    clock: Clock,
    on_edu: EduHandler | None = None,
    acl_allows: AclCheck | None = None,
    broadcast: room_routes.Broadcast | None = None,
) -> RoomFederation:
    remote = RemoteEvents(pipeline, rooms, store)
    checker = EventChecker(services.keyring)
    fetcher = EventFetcher(services.client, checker)
    out_of_room = OutOfRoomMemberships(store, rooms, remote, signing_key.server_name)
    pdus = PduHandler(store, rooms, remote, checker, fetcher, out_of_room)
    transactions = TransactionHandler(store, pdus, clock, on_edu=on_edu, acl_allows=acl_allows)
    handshake_server = HandshakeServer(pipeline, rooms, remote, checker, signing_key)
    membership = handlers.membership
    handshake_server.authoriser = membership.restricted_authoriser
    handshake_client = HandshakeClient(services.client, checker, remote, signing_key, clock, store)
    membership.federation = RemoteMembership(handshake_client, remote, handlers.directory)
    invite_client = InviteClient(services.client, checker, rooms)
    pipeline.remote_invite = invite_client.invite
    backfiller = Backfiller(store, rooms, fetcher, pdus, signing_key.server_name)
    handlers.messages.backfill = backfiller.backfill
    room_routes.setup(
        app,
        room_routes.RoomRoutes(
            transactions=transactions,
            handshakes=handshake_server,
            invites=InviteServer(remote, rooms, checker, signing_key),
            acl_allows=acl_allows,
            broadcast=broadcast,
        ),
    )
    return RoomFederation(remote, pdus, transactions, handshake_server, backfiller)
