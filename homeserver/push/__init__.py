"""Push notifications: push rules, their evaluation on every event, ``/notifications``
and pushers (spec: client-server "Push Notifications", push-gateway API)."""
