"""What a serving process loads: the heavy libraries the server was freed from stay out.

Idle memory is a target (a third of Synapse's); these modules cost megabytes each
(benchmarks/measure_idle_rss.py), so a stray import is a regression this test names.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

KEPT_OUT = (
    *("aiohttp", "prometheus_client", "psycopg", "psycopg_pool", "multidict", "yarl"),
    *("argparse", "shutil", "PIL"),
)
# Modules of ours a server without application services, or one that has read its
# config, has no use for (whole dotted names).
KEPT_OUT_MODULES = ("appservice.client", "appservice.pusher", "yaml", "homeserver.http.websocket")

SERVE = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from homeserver.__main__ import generate_config
    from homeserver.config import load_config
    from homeserver.keyfile import load_signing_key
    from homeserver.storage.open import open_database
    from homeserver.app import build_app
    from homeserver.http.server import Server

    async def main(workdir):
        path = Path(workdir) / "config.yaml"
        generate_config(path, "localhost:8008", "127.0.0.1", 0)
        config = load_config(path)
        app = build_app(config, load_signing_key(config.signing_key_path, config.server_name),
                        open_database(config.database))
        server = Server(app, "127.0.0.1", 0, shutdown_timeout=1)
        await server.start()
        await server.stop()
        print(" ".join(sorted(sys.modules)))

    asyncio.run(main(sys.argv[1]))
    """
)


def test_a_serving_process_loads_none_of_the_heavy_libraries(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SERVE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    modules = set(done.stdout.split())
    loaded = {name.split(".")[0] for name in modules}
    assert "homeserver" in loaded and "httptools" in loaded  # the check saw a real server
    assert not loaded & set(KEPT_OUT), f"loaded: {sorted(loaded & set(KEPT_OUT))}"
    ours = modules & set(KEPT_OUT_MODULES)
    assert not ours, f"loaded: {sorted(ours)}"
