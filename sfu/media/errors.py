"""A signaling request the SFU refuses: sent to the client as an ``error`` frame."""

from __future__ import annotations


class SignalingError(Exception):
    """``errcode`` is a Matrix error code (``M_BAD_JSON``, ``M_FORBIDDEN``, ...). With
    ``close_code`` set the socket is closed after the error frame (4401: not
    authenticated, 4403: not allowed); otherwise the session goes on, unchanged."""

    def __init__(self, errcode: str, message: str, close_code: int | None = None) -> None:
        super().__init__(message)
        self.errcode = errcode
        self.message = message
        self.close_code = close_code

    def frame(self) -> dict[str, str]:
        return {"type": "error", "errcode": self.errcode, "error": self.message}
