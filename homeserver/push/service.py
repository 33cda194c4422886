"""The push subsystem's parts, as the application holds them (``app[PUSH_KEY]``)."""

from __future__ import annotations

from dataclasses import dataclass

from .evaluator import PushEvaluator
from .notifications import NotificationsHandler
from .pushers import PusherPool
from .rules import PushRulesHandler


@dataclass(frozen=True, slots=True)
class PushService:
    rules: PushRulesHandler
    evaluator: PushEvaluator
    notifications: NotificationsHandler
    pushers: PusherPool
