"""User-Interactive Authentication: sessions, flows and stages.

spec: client-server "User-Interactive Authentication API". Sessions live in memory with
an expiry; a session is bound to the endpoint (and user) that created it, so a stage
completed for one request cannot authorize another.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from homeserver.clock import Clock
from homeserver.errors import MatrixError

DUMMY = "m.login.dummy"
PASSWORD = "m.login.password"
REGISTRATION_TOKEN = "m.login.registration_token"
JWT = "org.matrix.login.jwt"

SESSION_LIFETIME_MS = 15 * 60 * 1000
MAX_SESSIONS = 10_000


class StageFailed(Exception):
    """A stage attempt was wrong; the client may try again (401 with errcode)."""

    def __init__(self, errcode: str, message: str) -> None:
        super().__init__(message)
        self.errcode = errcode
        self.message = message


# A stage checks the client's ``auth`` dict; it raises ``StageFailed`` when it fails.
Stage = Callable[[Mapping[str, Any]], Awaitable[None]]


class UiaRequired(MatrixError):
    """401 with the flows; ``errcode``/``error`` only when an attempt failed."""

    def __init__(
        self,
        flows: Sequence[Sequence[str]],
        params: Mapping[str, Any],
        session: str,
        completed: Sequence[str],
        failure: StageFailed | None = None,
    ) -> None:
        super().__init__(
            401,
            failure.errcode if failure else "M_UNAUTHORIZED",
            failure.message if failure else "Additional authentication required",
        )
        self.flows = [list(flow) for flow in flows]
        self.params = dict(params)
        self.session = session
        self.completed = list(completed)
        self.failure = failure

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "flows": [{"stages": flow} for flow in self.flows],
            "params": self.params,
            "session": self.session,
        }
        if self.completed:
            body["completed"] = self.completed
        if self.failure is not None:
            body["errcode"] = self.failure.errcode
            body["error"] = self.failure.message
        return body


@dataclass(slots=True)
class _Session:
    endpoint: str
    user_id: str | None
    expires_ms: int
    completed: list[str] = field(default_factory=list)


class UserInteractiveAuth:
    def __init__(
        self,
        clock: Clock,
        *,
        lifetime_ms: int = SESSION_LIFETIME_MS,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        self._clock = clock
        self._lifetime_ms = lifetime_ms
        self._max_sessions = max_sessions
        self._sessions: OrderedDict[str, _Session] = OrderedDict()

    async def authenticate(
        self,
        auth: object,
        *,
        endpoint: str,
        flows: Sequence[Sequence[str]],
        stages: Mapping[str, Stage],
        params: Mapping[str, Any] | None = None,
        user_id: str | None = None,
    ) -> list[str]:
        """Return the completed stages once a whole flow is done; until then raise
        ``UiaRequired`` (401). ``endpoint`` names the operation (e.g. ``"POST /register"``),
        ``user_id`` the authenticated user, if any; both must match the session's."""
        params = params or {}
        if auth is None:
            session_id, _ = self._new_session(endpoint, user_id)
            raise UiaRequired(flows, params, session_id, [])
        if not isinstance(auth, dict):
            raise MatrixError(400, "M_BAD_JSON", "`auth` must be an object")
        given = auth.get("session")
        if given is None:
            # A client may attempt the first stage without asking for a session first.
            session_id, session = self._new_session(endpoint, user_id)
        else:
            if not isinstance(given, str):
                raise MatrixError(400, "M_BAD_JSON", "`auth.session` must be a string")
            session_id = given
            session = self._get(session_id)
            if session.endpoint != endpoint or session.user_id != user_id:
                raise MatrixError(
                    403, "M_FORBIDDEN", "This session was started for a different request"
                )

        kind = auth.get("type")
        if kind is not None and kind not in session.completed:
            if not isinstance(kind, str):
                raise MatrixError(400, "M_BAD_JSON", "`auth.type` must be a string")
            if not _may_attempt(flows, session.completed, kind):
                failure = StageFailed("M_FORBIDDEN", f"Authentication stage {kind} is not allowed")
                raise UiaRequired(flows, params, session_id, session.completed, failure)
            try:
                await stages[kind](auth)
            except StageFailed as failure:
                raise UiaRequired(flows, params, session_id, session.completed, failure) from None
            session.completed.append(kind)

        if any(list(flow) == session.completed for flow in flows):
            # Done: the session cannot authorize a second request.
            self._sessions.pop(session_id, None)
            return list(session.completed)
        raise UiaRequired(flows, params, session_id, session.completed)

    def _new_session(self, endpoint: str, user_id: str | None) -> tuple[str, _Session]:
        self._expire()
        session_id = secrets.token_urlsafe(18)
        session = _Session(endpoint, user_id, self._clock.time_ms() + self._lifetime_ms)
        self._sessions[session_id] = session
        while len(self._sessions) > self._max_sessions:
            self._sessions.popitem(last=False)
        return session_id, session

    def _get(self, session_id: str) -> _Session:
        session = self._sessions.get(session_id)
        if session is None or session.expires_ms <= self._clock.time_ms():
            self._sessions.pop(session_id, None)
            raise MatrixError(400, "M_UNKNOWN", "Unknown or expired authentication session")
        return session

    def _expire(self) -> None:
        # Sessions are created in time order, so expired ones are at the front.
        now = self._clock.time_ms()
        while self._sessions:
            first = next(iter(self._sessions.values()))
            if first.expires_ms > now:
                break
            self._sessions.popitem(last=False)


def _may_attempt(flows: Sequence[Sequence[str]], completed: list[str], kind: str) -> bool:
    """Stages are completed in order: ``kind`` must come next in a flow that starts with
    the stages completed so far."""
    done = len(completed)
    return any(
        list(flow[:done]) == completed and len(flow) > done and flow[done] == kind for flow in flows
    )
