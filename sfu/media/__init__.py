"""The SFU's media half: signaling over a WebSocket and RTP-level forwarding on aiortc.

``sfu/app.py`` builds one ``VoiceService`` and mounts ``VoiceService.websocket`` at
``GET /ws``; the protocol is in ``sfu/media/signaling.py``.
"""

from sfu.media.service import VoiceService
from sfu.media.settings import MediaSettings

__all__ = ["MediaSettings", "VoiceService"]
