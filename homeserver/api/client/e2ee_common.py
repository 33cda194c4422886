"""What the e2ee route modules share: the handlers' app key and the path prefixes."""

from __future__ import annotations

from homeserver.e2ee.service import E2ee
from homeserver.http import web

from .accounts_common import CLIENT_VERSIONS
from .accounts_common import paths as paths

E2EE_KEY = web.AppKey("e2ee", E2ee)

# Cross-signing was first served under the unstable prefix, which some clients still use.
WITH_UNSTABLE = (*CLIENT_VERSIONS, "unstable")


def e2ee(request: web.Request) -> E2ee:
    return request.config_dict[E2EE_KEY]
