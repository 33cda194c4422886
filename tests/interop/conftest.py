"""Federation interop fixtures: Synapse and Concord peers on loopback, shared by the whole
session (Synapse takes ~3 s to start), started on first use and stopped by pid at the end.

``pair`` is (side A, side B) for each of synapse-synapse, concord-synapse, synapse-concord
and concord-concord; every variant must pass.

Without Synapse (``make synapse`` installs it) the tests skip, unless ``REQUIRE_SYNAPSE=1``
(``make pytest`` sets it) turns that into a failure.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .client import Peer
from .concord_process import FederatedConcord
from .processes import PeerError, free_ports
from .synapse_process import SynapseServer, synapse_python

ROOM_VERSIONS = ["10", "11", "12"]
PAIRS = [
    pytest.param(("synapse", "synapse"), id="synapse-synapse"),
    pytest.param(("concord", "synapse"), id="concord-synapse"),
    pytest.param(("synapse", "concord"), id="synapse-concord"),
    pytest.param(("concord", "concord"), id="concord-concord"),
]
# Peers of the session: two of each kind, and a port for the forging test peer.
PEER_NAMES = ["synapse0", "synapse1", "concord0", "concord1", "forger"]


class InteropEnv:
    """The session's peers, by name, each started on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        fed = free_ports(len(PEER_NAMES))
        client = free_ports(len(PEER_NAMES))
        self.fed_ports = dict(zip(PEER_NAMES, fed, strict=True))
        self.client_ports = dict(zip(PEER_NAMES, client, strict=True))
        self.domains = [f"localhost:{port}" for port in fed]
        self.cert_dir = root / "tls"
        self._peers: dict[str, SynapseServer | FederatedConcord] = {}
        self._broken: dict[str, str] = {}

    def server_name(self, name: str) -> str:
        return f"localhost:{self.fed_ports[name]}"

    def peer(self, name: str) -> SynapseServer | FederatedConcord:
        if name in self._broken:  # do not pay for a failing start in every test
            raise PeerError(self._broken[name])
        peer = self._peers.get(name)
        if peer is None:
            options: dict[str, Any] = {
                "fed_port": self.fed_ports[name],
                "client_port": self.client_ports[name],
                "federation_domains": self.domains,
                "cert_dir": self.cert_dir,
            }
            try:
                if name.startswith("synapse"):
                    peer = SynapseServer(self.root / name, **options)
                else:
                    peer = FederatedConcord(self.root / name, **options)
            except Exception as exc:
                self._broken[name] = f"{name} could not be set up: {exc}"
                raise
            self._peers[name] = peer
        if not peer.running:
            try:
                peer.start()
            except Exception as exc:
                self._broken[name] = f"{name} did not start: {exc}"
                raise
        return peer

    def close(self) -> None:
        for peer in self._peers.values():
            with contextlib.suppress(Exception):
                peer.stop()


@pytest.fixture(scope="session")
def interop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InteropEnv]:
    if synapse_python() is None:
        message = "Synapse not installed (run `make synapse`)"
        if os.environ.get("REQUIRE_SYNAPSE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    env = InteropEnv(tmp_path_factory.mktemp("interop"))
    try:
        yield env
    finally:
        env.close()


@dataclass
class Pair:
    a: Peer
    b: Peer

    @property
    def id(self) -> str:
        return f"{self.a.kind}-{self.b.kind}"


# The peers a test uses, for the log excerpts of a failure report.
PEERS = pytest.StashKey[list[Any]]()


@pytest.fixture(params=PAIRS)
def pair(request: pytest.FixtureRequest, interop: InteropEnv) -> Pair:
    a_kind, b_kind = request.param
    a = interop.peer(f"{a_kind}0")
    b = interop.peer(f"{b_kind}1" if b_kind == a_kind else f"{b_kind}0")
    request.node.stash[PEERS] = [a, b]
    return Pair(a, b)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed interop test reports where each peer's log is, with its last lines."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    peers = item.stash.get(PEERS, [])
    if report.failed and call.when == "call" and peers:
        for peer in peers:
            report.sections.append((f"log of {peer.describe()}", peer.log_excerpt()))


@pytest.fixture(params=ROOM_VERSIONS, ids=lambda v: f"v{v}")
def room_version(request: pytest.FixtureRequest) -> str:
    return str(request.param)
