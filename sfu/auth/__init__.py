"""The SFU's access half: who may be in which voice room, and who is.

``HomeserverAccess`` implements ``sfu.access.Access`` (OpenID exchange, the SFU's JWTs,
membership and power levels read by the application-service bot); ``CallMembers``
implements ``sfu.access.CallRoster`` (``org.matrix.msc3401.call.member`` state).
"""

from .homeserver_access import HomeserverAccess
from .roster import CallMembers

__all__ = ["CallMembers", "HomeserverAccess"]
