"""Ephemeral per-room and per-user data that is not part of any room's DAG: typing,
receipts, presence. Each tracker is a /sync extension (homeserver/sync/extensions.py)."""
